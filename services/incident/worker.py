"""What the incident service consumes. Its queue is bound to exactly these keys.

Problem analysis takes the service's own `incident.created.v1` from RabbitMQ like any other
consumer (never a direct call from the incident code), and the change service's implementation
events, for change-caused incidents and for alerts raised during a change."""

from __future__ import annotations

from collections.abc import Mapping

from services.incident import usecases_analysis
from shared.events import CloudEvent
from shared.events.change import ChangeFailed, ChangeImplemented, ChangeImplementing
from shared.events.incident import IncidentCreated
from shared.messaging import Handler
from shared.uow import UnitOfWork


async def on_incident_created(event: CloudEvent, uow: UnitOfWork) -> None:
    await usecases_analysis.on_incident_created(event.data_as(IncidentCreated), uow)


async def on_change_implementing(event: CloudEvent, uow: UnitOfWork) -> None:
    await usecases_analysis.on_change_implementing(event.data_as(ChangeImplementing), uow)


async def on_change_implemented(event: CloudEvent, uow: UnitOfWork) -> None:
    await usecases_analysis.on_change_done(event.data_as(ChangeImplemented), uow)


async def on_change_failed(event: CloudEvent, uow: UnitOfWork) -> None:
    await usecases_analysis.on_change_done(event.data_as(ChangeFailed), uow)


HANDLERS: Mapping[str, Handler] = {
    IncidentCreated.routing_key: on_incident_created,
    ChangeImplementing.routing_key: on_change_implementing,
    ChangeImplemented.routing_key: on_change_implemented,
    ChangeFailed.routing_key: on_change_failed,
}
