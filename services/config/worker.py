"""What the CMDB consumes: change events, turned into use-case calls (the consumer commits); and
its scheduled jobs: the capacity pass against Prometheus, and the retention of its samples."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from services.config.settings import ConfigSettings
from services.config.store.prometheus import PrometheusClient
from services.config.usecases import capacity, change_control, relationships
from shared.events.change import ChangeApproved, ChangeCancelled, ChangeCreated, ChangeFailed, ChangeImplemented
from shared.events.supplier import ContractActivated
from shared.messaging import Handler, data_handlers
from shared.periodic import JobContext, PeriodicJob

HANDLERS: Mapping[str, Handler] = data_handlers(
    (ChangeCreated, change_control.on_change_created),
    (ChangeApproved, change_control.on_change_approved),
    (ChangeImplemented, change_control.apply_implemented_change),
    (ChangeCancelled, change_control.on_change_ended),
    (ChangeFailed, change_control.on_change_ended),
    (ContractActivated, relationships.record_contract_support),
)
"""Consumed routing keys -> handlers; the service's queue is bound to exactly these keys."""


async def sample_capacity(ctx: JobContext) -> None:
    """One capacity pass against Prometheus (nothing to do while no Prometheus is configured)."""
    settings: ConfigSettings = ctx.settings
    if settings.prometheus_url is None:
        return
    sampling = capacity.Sampling(
        step=timedelta(seconds=settings.capacity_interval_s),
        first_look_back=settings.capacity_first_look_back,
        max_points=settings.capacity_max_catch_up_points,
        settle=timedelta(seconds=settings.capacity_settle_s),
        horizon=timedelta(days=settings.capacity_forecast_horizon_days),
    )
    async with PrometheusClient(settings.prometheus_url, timeout_s=settings.capacity_timeout_s) as source:
        await capacity.sampling_pass(ctx.unit_of_work, source, sampling, ctx.now)


async def purge_capacity_samples(ctx: JobContext) -> None:
    settings: ConfigSettings = ctx.settings
    await capacity.purge_samples(ctx.unit_of_work, ctx.now - timedelta(days=settings.capacity_retention_days))


CAPACITY = "capacity"

PERIODIC: tuple[PeriodicJob, ...] = (
    PeriodicJob(CAPACITY, sample_capacity, lambda s: s.capacity_interval_s),
    PeriodicJob("capacity-retention", purge_capacity_samples, lambda s: 3600.0),
)
