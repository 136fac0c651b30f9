"""What the incident service publishes (domain event -> contract) and consumes (none yet)."""

from __future__ import annotations

from collections.abc import Mapping

from services.incident.domain import Incident, IncidentOpened
from shared.events import EventData
from shared.events.incident import IncidentCreated
from shared.messaging import Handler


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


HANDLERS: Mapping[str, Handler] = {}
"""Consumed routing keys -> handlers; the service's queue is bound to exactly these keys."""
