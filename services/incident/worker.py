"""What the incident service consumes, and its scheduled jobs.

Consumed: config's CI events into the local CI read model (`store.ci_read_model`). Its queue is
bound to exactly the keys of HANDLERS.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.incident import store, usecases
from services.incident.settings import IncidentSettings
from shared.messaging import Handler
from shared.periodic import JobContext, PeriodicJob

HANDLERS: Mapping[str, Handler] = {
    **store.ci_read_model.handlers,
}


async def auto_close(ctx: JobContext) -> None:
    """Close incidents resolved for `auto_close_after_days` without confirmation, batch by batch."""
    settings: IncidentSettings = ctx.settings
    while True:
        closed = await usecases.close_resolved_incidents(
            ctx.unit_of_work(), settings.policy, ctx.now, batch=settings.auto_close_batch
        )
        if closed < settings.auto_close_batch:
            return


async def purge_idempotency_keys(ctx: JobContext) -> None:
    async with ctx.engine.begin() as conn:
        await store.idempotency.purge_expired(conn, ctx.now)


PERIODIC: tuple[PeriodicJob, ...] = (
    PeriodicJob("auto-close", auto_close, lambda s: s.auto_close_interval_s),
    PeriodicJob("idempotency-purge", purge_idempotency_keys, lambda s: 3600.0),
)
