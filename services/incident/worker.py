"""What the incident service consumes, and its scheduled jobs. Its queue is bound to exactly the
keys of HANDLERS.

Consumed: config's CI events into the local CI read model (`store.tables.ci_read_model`); the service's
own `incident.created.v1` for problem analysis, taken from RabbitMQ like any other consumer (never
a direct call from the incident code); and the change service's implementation events, for
change-caused incidents and for alerts raised during a change.

Scheduled: the SLA watcher, auto-close of resolved incidents, and the purge of expired
Idempotency-Keys."""

from __future__ import annotations

from collections.abc import Mapping

from services.incident.settings import IncidentSettings
from services.incident.store.incidents import idempotency
from services.incident.store.tables import ci_read_model
from services.incident.usecases import analysis, incidents, sla, sla_watcher
from shared.events import CloudEvent
from shared.events.change import ChangeFailed, ChangeImplemented, ChangeImplementing
from shared.events.incident import IncidentCreated
from shared.messaging import Handler
from shared.periodic import JobContext, PeriodicJob
from shared.uow import UnitOfWork


async def on_incident_created(event: CloudEvent, uow: UnitOfWork) -> None:
    await analysis.on_incident_created(event.data_as(IncidentCreated), uow)


async def on_change_implementing(event: CloudEvent, uow: UnitOfWork) -> None:
    await analysis.on_change_implementing(event.data_as(ChangeImplementing), uow)


async def on_change_implemented(event: CloudEvent, uow: UnitOfWork) -> None:
    await analysis.on_change_done(event.data_as(ChangeImplemented), uow)


async def on_change_failed(event: CloudEvent, uow: UnitOfWork) -> None:
    await analysis.on_change_done(event.data_as(ChangeFailed), uow)


HANDLERS: Mapping[str, Handler] = {
    **ci_read_model.handlers,
    IncidentCreated.routing_key: on_incident_created,
    ChangeImplementing.routing_key: on_change_implementing,
    ChangeImplemented.routing_key: on_change_implemented,
    ChangeFailed.routing_key: on_change_failed,
}


async def auto_close(ctx: JobContext) -> None:
    """Close incidents resolved for `auto_close_after_days` without confirmation, batch by batch."""
    settings: IncidentSettings = ctx.settings
    while True:
        closed = await incidents.close_resolved_incidents(
            ctx.unit_of_work(), settings.policy, ctx.now, batch=settings.auto_close_batch
        )
        if closed < settings.auto_close_batch:
            return


async def purge_idempotency_keys(ctx: JobContext) -> None:
    async with ctx.engine.begin() as conn:
        await idempotency.purge_expired(conn, ctx.now)


PERIODIC: tuple[PeriodicJob, ...] = (
    PeriodicJob(sla.WATCHER, sla_watcher.watch, lambda s: s.sla_watch_interval_s),
    PeriodicJob("auto-close", auto_close, lambda s: s.auto_close_interval_s),
    PeriodicJob("idempotency-purge", purge_idempotency_keys, lambda s: 3600.0),
)
