"""What the incident service publishes: its domain events turned into the published contracts."""

from __future__ import annotations

from services.incident.domain import Incident, IncidentOpened
from shared.events import EventData
from shared.events.incident import IncidentCreated


def to_contract(event: IncidentOpened, incident: Incident) -> EventData:
    return IncidentCreated(
        incident_id=event.incident_id,
        number=incident.number,
        title=incident.title,
        impact=int(incident.impact),
        urgency=int(incident.urgency),
        priority=incident.priority,
        caller=incident.caller,
        ci_id=incident.ci_id,
        opened_at=incident.opened_at,
    )
