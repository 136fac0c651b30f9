"""The capacity job: one pass samples every metric's PromQL from Prometheus on the sampling grid
(from the instant after the last one stored to now, so a pass after an outage catches up over
the gap), stores the samples of the CIs that have thresholds on the metric, moves each CI's
level and emits `capacity.threshold_breached.v1` / `capacity.threshold_cleared.v1` when it
crosses a threshold either way.

Prometheus not answering stops the pass: nothing is stored for the window, the metric's grid
position stays where it was, and the source is recorded `unavailable` (read by /readyz) and
`itsm.capacity.source_up` drops to 0. Nothing is ever made up for a missing instant: an instant
Prometheus answers without a series for a CI stores nothing for that CI."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.capacity import (
    Crossing,
    Level,
    Thresholds,
    grid_end,
    grid_start,
    grid_windows,
    level_change,
    linear_forecast,
)
from services.config.store import capacity as store
from services.config.store.prometheus import PrometheusClient, PrometheusUnavailable, Series, record_source_up
from shared import metrics
from shared.events.config import CapacityThresholdBreached, CapacityThresholdCleared
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

SOURCE_NAME = "prometheus"
RUNWAY_SAMPLES = 1000
"""The latest samples a forecast is fitted on."""


@dataclass
class PassResult:
    samples: int = 0
    crossings: int = 0
    metrics: int = 0
    source_up: bool = True
    detail: str = ""
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Sampling:
    step: timedelta
    first_look_back: int
    max_points: int
    horizon: timedelta = timedelta(days=180)
    """How far the forecast of a warning breach looks for the critical threshold."""
    settle: timedelta = timedelta(0)
    """Instants closer to now than this are left to the next pass: a scrape taken before such an
    instant may not be ingested yet, and the instant would be stored with the value before it."""


async def sampling_pass(
    unit_of_work: Callable[[], UnitOfWork], source: PrometheusClient, sampling: Sampling, now: datetime
) -> PassResult:
    result = PassResult()
    async with unit_of_work() as uow:
        metric_rows = await store.all_metrics(uow.connection)
    try:
        for metric in metric_rows:
            await _sample_metric(unit_of_work, source, sampling, metric, now, result)
    except PrometheusUnavailable as exc:
        result.source_up, result.detail = False, str(exc)
        log.warning("capacity: Prometheus unavailable, nothing stored for the window: %s", exc)
    record_source_up(result.source_up)
    async with unit_of_work() as uow:
        await store.record_source(
            uow.connection,
            SOURCE_NAME,
            status="ok" if result.source_up else "unavailable",
            detail=result.detail,
            now=now,
            success=result.source_up,
        )
        await uow.commit()
    return result


async def _sample_metric(
    unit_of_work: Callable[[], UnitOfWork],
    source: PrometheusClient,
    sampling: Sampling,
    metric: Any,
    now: datetime,
    result: PassResult,
) -> None:
    """The metric's instants since the last one stored, window by window: each window asked,
    then stored in a transaction of its own that moves the grid position to its end (a catch-up
    over a long gap holds one window in memory at a time)."""
    start = grid_start(metric.sampled_until, now, sampling.step, first_look_back=sampling.first_look_back)
    end = grid_end(now - sampling.settle, sampling.step)
    if start > end:
        return
    position = metric.sampled_until
    for window_start, window_end in grid_windows(start, end, sampling.step, sampling.max_points):
        series, _unlabelled = await source.query_range(
            metric.promql, metric.ci_label, window_start, window_end, sampling.step
        )
        if not await _store_window(unit_of_work, metric, series, position, window_end, sampling, result):
            result.skipped.append(metric.name)  # another replica sampled it meanwhile
            return
        position = window_end
    result.metrics += 1


async def _store_window(
    unit_of_work: Callable[[], UnitOfWork],
    metric: Any,
    series: Series,
    position: datetime | None,
    window_end: datetime,
    sampling: Sampling,
    result: PassResult,
) -> bool:
    """Store one window's samples, move the levels and emit the crossings; False (nothing done)
    when the metric's grid position is no longer `position`."""
    async with unit_of_work() as uow:
        conn = uow.connection
        current = await store.metric_named(conn, metric.name, for_update=True)
        if current is None or current.sampled_until != position:
            return False
        thresholds = await store.thresholds_of(conn, metric.id)
        samples: list[dict[str, Any]] = []
        levels: list[dict[str, Any]] = []
        crossings: list[CapacityThresholdBreached | CapacityThresholdCleared] = []
        for key, points in series.items():
            threshold = thresholds.get(key)
            if threshold is None or not points:
                continue  # a series of no CI with thresholds on this metric
            points.sort()
            samples.extend({"metric_id": metric.id, "ci_id": threshold.ci_id, "at": at, "value": v} for at, v in points)
            moved = _evaluate(metric, threshold, points, crossings)
            if moved is not None:
                levels.append(moved)
        await store.add_samples(conn, samples)
        warned = {c.ci_id for c in crossings if _forecasts(c)}
        since = window_end - sampling.step * RUNWAY_SAMPLES
        history = await store.recent_samples(conn, metric.id, warned, since=since) if warned else {}
        for crossing in crossings:
            emitted = _with_runway(crossing, history.get(crossing.ci_id, []), sampling.horizon)
            uow.emit(emitted, subject=str(crossing.ci_id))
        result.crossings += len(crossings)
        await store.save_levels(conn, metric.id, levels)
        await store.mark_sampled(conn, metric.id, window_end)
        await uow.commit()
    metrics.CAPACITY_SAMPLES.add(len(samples), {"service": "config", "metric": metric.name})
    result.samples += len(samples)
    return True


def _evaluate(
    metric: Any,
    threshold: Any,
    points: list[tuple[datetime, float]],
    crossings: list[CapacityThresholdBreached | CapacityThresholdCleared],
) -> dict[str, Any] | None:
    """Walk the CI's new samples in time order, adding each crossing to `crossings`: the CI's
    level after them, or None when its level stays (nothing to write: the level of most CIs
    stays, and a pass then writes their samples only)."""
    limits = Thresholds(warning=threshold.warning, critical=threshold.critical)
    level, since, crossed = Level(threshold.level), threshold.level_since, 0
    for at, value in points:
        new_level = limits.level_of(value)
        change = level_change(level, new_level)
        if change is None:
            continue
        contract = CapacityThresholdBreached if change.crossing is Crossing.BREACHED else CapacityThresholdCleared
        crossings.append(
            contract(
                ci_id=threshold.ci_id,
                metric=metric.name,
                unit=metric.unit,
                level=change.level.value,
                current_level=new_level.value,
                value=value,
                warning=limits.warning,
                critical=limits.critical,
                sampled_at=at,
                **({"breached_at": since} if contract is CapacityThresholdCleared else {}),
            )
        )
        level, since, crossed = new_level, at, crossed + 1
    if not crossed:
        return None
    return {"ci_id": threshold.ci_id, "level": level.value, "level_since": since}


def _forecasts(crossing: CapacityThresholdBreached | CapacityThresholdCleared) -> bool:
    return isinstance(crossing, CapacityThresholdBreached) and crossing.level == Level.WARNING.value


def _with_runway(
    crossing: CapacityThresholdBreached | CapacityThresholdCleared,
    history: list[tuple[datetime, float]],
    horizon: timedelta,
) -> CapacityThresholdBreached | CapacityThresholdCleared:
    """A warning breach carries the linear forecast's runway to critical, fitted on the CI's
    samples of the last RUNWAY_SAMPLES steps up to it (the ones just stored included): how long
    until it is critical."""
    if not _forecasts(crossing):
        return crossing
    points = [(at, value) for at, value in history if at <= crossing.sampled_at]
    forecast = linear_forecast(points, horizon)
    runway = forecast.runway(crossing.critical, crossing.sampled_at) if forecast else None
    if runway is None:
        return crossing
    return crossing.model_copy(update={"runway_to_critical_s": runway.total_seconds()})


async def purge_samples(unit_of_work: Callable[[], UnitOfWork], before: datetime) -> int:
    async with unit_of_work() as uow:
        purged = await store.purge_samples(uow.connection, before)
        await uow.commit()
    return purged


async def readiness_details(conn: AsyncConnection) -> dict[str, str]:
    """For /readyz: what the capacity job last found of Prometheus (`capacity.prometheus`)."""
    details = {}
    for row in await store.source_status(conn):
        since = f", last answered {row.last_success_at.isoformat()}" if row.last_success_at else ""
        reason = f": {row.detail}" if row.detail else ""
        details[f"capacity.{row.name}"] = f"{row.status} at {row.checked_at.isoformat()}{since}{reason}"[:700]
    return details
