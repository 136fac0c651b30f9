"""What the change service consumes: the CMDB's answer to each implemented change."""

from __future__ import annotations

from collections.abc import Mapping

from services.change import usecases
from services.change.delivery.worker import on_incident_linked_to_change
from shared.events import CloudEvent
from shared.events.config import ChangeApplied, ChangeRejected
from shared.events.incident import IncidentLinkedToChange
from shared.messaging import Handler
from shared.uow import UnitOfWork


async def on_change_applied(event: CloudEvent, uow: UnitOfWork) -> None:
    data = event.data_as(ChangeApplied)
    await usecases.record_cmdb_outcome(data.change_id, applied=True, errors=[], uow=uow)


async def on_change_rejected(event: CloudEvent, uow: UnitOfWork) -> None:
    data = event.data_as(ChangeRejected)
    errors = [e.model_dump() for e in data.errors]
    await usecases.record_cmdb_outcome(data.change_id, applied=False, errors=errors, uow=uow)


HANDLERS: Mapping[str, Handler] = {
    ChangeApplied.routing_key: on_change_applied,
    ChangeRejected.routing_key: on_change_rejected,
    IncidentLinkedToChange.routing_key: on_incident_linked_to_change,
}
"""Consumed routing keys -> handlers; the service's queue is bound to exactly these keys."""
