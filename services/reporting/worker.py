"""What reporting consumes: every event of the suite (`#`), into its log and projections."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from services.reporting import live, usecases
from services.reporting.governance import delivery
from services.reporting.governance import usecases as governance
from services.reporting.governance.delivery import DeliveryConfig
from services.reporting.governance.domain import RetryPolicy
from shared.events import CloudEvent
from shared.messaging import Handler
from shared.periodic import JobContext, PeriodicJob
from shared.uow import UnitOfWork


async def on_any_event(event: CloudEvent, uow: UnitOfWork) -> None:
    # An event already in the log (a redelivery the inbox did not see, e.g. a replay) changes nothing.
    if await usecases.project(uow.connection, [event]):
        _announce_after_commit([event], uow)


async def on_events(events: list[CloudEvent], uow: UnitOfWork) -> None:
    """A batch of new events (the consumer's batching mode): one transaction, one statement per table."""
    if await usecases.project(uow.connection, events):
        _announce_after_commit(events, uow)


def _announce_after_commit(events: list[CloudEvent], uow: UnitOfWork) -> None:
    """Tell the dashboard's live streams once committed, so a report re-read on the news counts them."""
    recorded = [live.LiveEvent.of(e) for e in events]

    def announce() -> None:
        for item in recorded:
            live.FEED.publish(item)

    uow.after_commit(announce)


HANDLERS: Mapping[str, Handler] = {"#": on_any_event}


async def schedule_report_runs(ctx: JobContext) -> None:
    """Store the agreed reports' last complete periods, then deliver what is due to their recipients."""
    settings = ctx.settings
    await governance.run_scheduled_reports(ctx.unit_of_work, ctx.now, availability_target=settings.availability_target)
    retry = RetryPolicy(
        first_delay=timedelta(seconds=settings.report_delivery_retry_s),
        max_delay=timedelta(seconds=settings.report_delivery_retry_max_s),
        max_attempts=settings.report_delivery_max_attempts,
    )
    config = DeliveryConfig(retry=retry, timeout_s=settings.report_delivery_timeout_s)
    await delivery.deliver_due(ctx.unit_of_work, ctx.now, config)


async def compact_service_level_days(ctx: JobContext) -> None:
    await usecases.compact_service_level_days(ctx.unit_of_work)


PERIODIC = (
    PeriodicJob("report-runs", schedule_report_runs, lambda s: s.report_schedule_interval_s),
    PeriodicJob("service-level-days", compact_service_level_days, lambda s: s.service_level_days_interval_s),
)
