"""What the notify service consumes: every event of the suite (`#`), kept and queued for the
webhook subscriptions it matches; the periodic job that delivers what is due, and the one that
forgets consumed events past their retention."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from services.notify import events
from services.notify.usecases import deliveries
from shared.messaging import Handler
from shared.periodic import JobContext, PeriodicJob

HANDLERS: Mapping[str, Handler] = {events.CONSUMES: deliveries.on_event}
"""Consumed routing keys -> handlers."""


async def deliver_webhooks(ctx: JobContext) -> None:
    await deliveries.deliver_due(ctx.unit_of_work, deliveries.config_of(ctx.settings))


async def forget_old_events(ctx: JobContext) -> None:
    retention = timedelta(days=ctx.settings.event_retention_days)
    await deliveries.forget_old_events(ctx.unit_of_work, retention)


PERIODIC = (
    PeriodicJob("webhook-deliveries", deliver_webhooks, lambda s: s.webhook_delivery_interval_s),
    PeriodicJob("event-log-purge", forget_old_events, lambda s: s.event_purge_interval_s),
)
