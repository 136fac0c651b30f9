"""What the release side consumes: incidents the incident service linked to a change."""

from __future__ import annotations

from services.change.delivery import usecases
from shared.events import CloudEvent
from shared.events.incident import IncidentLinkedToChange
from shared.uow import UnitOfWork


async def on_incident_linked_to_change(event: CloudEvent, uow: UnitOfWork) -> None:
    data = event.data_as(IncidentLinkedToChange)
    await usecases.link_incident(
        change_id=data.change_id,
        incident_id=data.incident_id,
        incident_number=data.incident_number,
        reason=data.reason,
        ci_id=data.ci_id,
        service_id=data.service_id,
        linked_at=data.occurred_at,
        uow=uow,
    )
