"""What the change service consumes: the CMDB's answer to each implemented change, config's CI
events (the local CI read model), and incidents linked to changes."""

from __future__ import annotations

from collections.abc import Mapping

from services.change.domain.changes import IncidentLink
from services.change.store.tables import ci_read_model
from services.change.usecases import changes as usecases
from services.change.usecases import continuity
from shared.events import CloudEvent
from shared.events.config import ConfigChangeApplied, ConfigChangeRejected
from shared.events.continuity import ContinuityPlanRecorded
from shared.events.incident import IncidentLinkedToChange
from shared.messaging import Handler
from shared.uow import UnitOfWork


async def on_change_applied(event: CloudEvent, uow: UnitOfWork) -> None:
    data = event.data_as(ConfigChangeApplied)
    await usecases.record_cmdb_outcome(data.change_id, applied=True, errors=[], uow=uow)


async def on_change_rejected(event: CloudEvent, uow: UnitOfWork) -> None:
    data = event.data_as(ConfigChangeRejected)
    errors = [e.model_dump() for e in data.errors]
    await usecases.record_cmdb_outcome(data.change_id, applied=False, errors=errors, uow=uow)


async def on_incident_linked(event: CloudEvent, uow: UnitOfWork) -> None:
    data = event.data_as(IncidentLinkedToChange)
    link = IncidentLink(
        data.incident_id, data.incident_number, data.reason, data.ci_id, data.occurred_at, data.service_id
    )
    await usecases.link_incident(data.change_id, link, uow)


HANDLERS: Mapping[str, Handler] = {
    **ci_read_model.handlers,
    ConfigChangeApplied.routing_key: on_change_applied,
    ConfigChangeRejected.routing_key: on_change_rejected,
    IncidentLinkedToChange.routing_key: on_incident_linked,
    ContinuityPlanRecorded.routing_key: continuity.on_plan_recorded,
}
"""Consumed routing keys -> handlers; the service's queue is bound to exactly these keys."""
