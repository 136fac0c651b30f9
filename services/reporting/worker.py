"""What reporting consumes: every event of the suite (`#`), into its log and projections."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from services.reporting import events
from services.reporting.domain.distribution import RetryPolicy
from services.reporting.usecases import distribution, projections, runs
from services.reporting.usecases.distribution import DeliveryConfig
from shared.events import CloudEvent
from shared.messaging import Handler
from shared.periodic import JobContext, PeriodicJob
from shared.uow import UnitOfWork


async def on_any_event(event: CloudEvent, uow: UnitOfWork) -> None:
    await projections.record([event], uow)


async def on_events(events: list[CloudEvent], uow: UnitOfWork) -> None:
    """A batch of new events (the consumer's batching mode): one transaction, one statement per table."""
    await projections.record(events, uow)


HANDLERS: Mapping[str, Handler] = {events.CONSUMES: on_any_event}


async def schedule_report_runs(ctx: JobContext) -> None:
    """Store the agreed reports' last complete periods, then deliver what is due to their recipients."""
    settings = ctx.settings
    await runs.run_scheduled_reports(
        ctx.unit_of_work,
        ctx.now,
        availability_target=settings.availability_target,
        outage_threshold=settings.outage_threshold,
    )
    retry = RetryPolicy(
        first_delay=timedelta(seconds=settings.report_delivery_retry_s),
        max_delay=timedelta(seconds=settings.report_delivery_retry_max_s),
        max_attempts=settings.report_delivery_max_attempts,
    )
    config = DeliveryConfig(retry=retry, timeout_s=settings.report_delivery_timeout_s)
    await distribution.deliver_due(ctx.unit_of_work, ctx.now, config)


async def compact_service_level_days(ctx: JobContext) -> None:
    await projections.compact_service_level_days(ctx.unit_of_work)


PERIODIC = (
    PeriodicJob("report-runs", schedule_report_runs, lambda s: s.report_schedule_interval_s),
    PeriodicJob("service-level-days", compact_service_level_days, lambda s: s.service_level_days_interval_s),
)
