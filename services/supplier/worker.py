"""What the supplier service consumes: CI events into its read model, incident, SLA and change
events into supplier performance. Its queue is bound to exactly these keys."""

from __future__ import annotations

from collections.abc import Mapping

from services.supplier.store.tables import ci_read_model
from services.supplier.usecases import performance
from shared.events import CloudEvent
from shared.events.change import ChangeFailed, ChangeImplemented
from shared.events.incident import IncidentAssigned, IncidentCreated, IncidentReopened, IncidentResolved, SlaBreached
from shared.messaging import Handler
from shared.uow import UnitOfWork


async def on_incident_created(event: CloudEvent, uow: UnitOfWork) -> None:
    await performance.on_incident_created(event.data_as(IncidentCreated), uow)


async def on_incident_assigned(event: CloudEvent, uow: UnitOfWork) -> None:
    await performance.on_incident_assigned(event.data_as(IncidentAssigned), uow)


async def on_incident_resolved(event: CloudEvent, uow: UnitOfWork) -> None:
    await performance.on_incident_resolved(event.data_as(IncidentResolved), uow)


async def on_incident_reopened(event: CloudEvent, uow: UnitOfWork) -> None:
    await performance.on_incident_reopened(event.data_as(IncidentReopened), uow)


async def on_sla_breached(event: CloudEvent, uow: UnitOfWork) -> None:
    await performance.on_sla_breached(event.data_as(SlaBreached), uow)


async def on_change_implemented(event: CloudEvent, uow: UnitOfWork) -> None:
    await performance.on_change_outcome(event.data_as(ChangeImplemented), uow)


async def on_change_failed(event: CloudEvent, uow: UnitOfWork) -> None:
    await performance.on_change_outcome(event.data_as(ChangeFailed), uow)


HANDLERS: Mapping[str, Handler] = {
    **ci_read_model.handlers,
    IncidentCreated.routing_key: on_incident_created,
    IncidentAssigned.routing_key: on_incident_assigned,
    IncidentResolved.routing_key: on_incident_resolved,
    IncidentReopened.routing_key: on_incident_reopened,
    SlaBreached.routing_key: on_sla_breached,
    ChangeImplemented.routing_key: on_change_implemented,
    ChangeFailed.routing_key: on_change_failed,
}
"""Consumed routing keys -> handlers."""
