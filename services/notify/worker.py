"""What the notify service consumes: every event of the suite (`#`), kept and queued for the
webhook subscriptions it matches, and rendered into the e-mails its notification rules ask for
(in the same transaction); the periodic jobs that deliver what is due (webhooks, e-mail), the one
that takes in the desk's mailbox (IMAP, `usecases.intake`), and the one that forgets consumed
events past their retention."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from services.notify import events
from services.notify.settings import NotifySettings
from services.notify.usecases import deliveries, intake, notifications, surveys
from shared import clock
from shared.events import CloudEvent
from shared.messaging import Handler
from shared.periodic import JobContext, PeriodicJob
from shared.uow import UnitOfWork


async def on_event(event: CloudEvent, uow: UnitOfWork) -> None:
    """One consumed event: queued for the webhooks it matches and the e-mails its rules ask for; an
    incident opened by e-mail gives its number to the intake log; an issued survey puts its link
    into the caller's resolution mail."""
    await deliveries.on_event(event, uow)
    settings = uow.settings if isinstance(uow.settings, NotifySettings) else NotifySettings()
    config = notifications.mail_config_of(settings)
    await notifications.on_event(event, uow, config)
    await intake.on_incident_created(event, uow)
    await surveys.on_survey_issued(event, uow, config, clock.now())


HANDLERS: Mapping[str, Handler] = {events.CONSUMES: on_event}
"""Consumed routing keys -> handlers."""


async def deliver_webhooks(ctx: JobContext) -> None:
    await deliveries.deliver_due(ctx.unit_of_work, deliveries.config_of(ctx.settings))


async def deliver_mail(ctx: JobContext) -> None:
    await notifications.deliver_mail(ctx.unit_of_work, notifications.mail_config_of(ctx.settings))


async def take_in_mail(ctx: JobContext) -> None:
    await intake.run_pass(ctx.unit_of_work, intake.intake_config_of(ctx.settings))


async def forget_old_events(ctx: JobContext) -> None:
    retention = timedelta(days=ctx.settings.event_retention_days)
    await deliveries.forget_old_events(ctx.unit_of_work, retention)
    await intake.forget_old_intake(ctx.unit_of_work(), timedelta(days=ctx.settings.mail_intake_retention_days))


PERIODIC = (
    PeriodicJob("webhook-deliveries", deliver_webhooks, lambda s: s.webhook_delivery_interval_s),
    PeriodicJob("mail-deliveries", deliver_mail, lambda s: s.mail_delivery_interval_s),
    PeriodicJob("mail-intake", take_in_mail, lambda s: s.mail_intake_interval_s),
    PeriodicJob("event-log-purge", forget_old_events, lambda s: s.event_purge_interval_s),
)
