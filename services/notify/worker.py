"""What the notify service consumes: every event of the suite (`#`), kept and queued for the
webhook subscriptions it matches; and the periodic job that delivers what is due."""

from __future__ import annotations

from collections.abc import Mapping

from services.notify import events
from services.notify.usecases import deliveries
from shared.messaging import Handler
from shared.periodic import JobContext, PeriodicJob

HANDLERS: Mapping[str, Handler] = {events.CONSUMES: deliveries.on_event}
"""Consumed routing keys -> handlers."""


async def deliver_webhooks(ctx: JobContext) -> None:
    await deliveries.deliver_due(ctx.unit_of_work, deliveries.config_of(ctx.settings))


PERIODIC = (PeriodicJob("webhook-deliveries", deliver_webhooks, lambda s: s.webhook_delivery_interval_s),)
