"""Capacity management (ISO/IEC 20000-1 6.5) as pure rules: the level a sample puts a CI's metric
at against its thresholds, what a change of level publishes, the sampling grid a pass asks
Prometheus for (so a catch-up asks for the same instants a live pass would have), the linear
demand forecast and its runway, and a capacity plan's upgrade items. No I/O."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final

from services.config.domain.budgets import CURRENCY
from shared.errors import RuleViolation

METRIC_NAME: Final = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
FORECAST_METHOD: Final = "linear"
MIN_FORECAST_POINTS: Final = 2


class Level(StrEnum):
    """Where a metric's latest sample stands against its thresholds."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


_RANK: Final = {Level.OK: 0, Level.WARNING: 1, Level.CRITICAL: 2}


@dataclass(frozen=True)
class Thresholds:
    """A higher value is worse: at or over `warning` is a warning, at or over `critical` critical."""

    warning: float
    critical: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.warning) and math.isfinite(self.critical)):
            raise RuleViolation("thresholds are finite numbers", field="critical")
        if self.warning > self.critical:
            raise RuleViolation("the warning threshold is not above the critical one", field="warning")

    def level_of(self, value: float) -> Level:
        if value >= self.critical:
            return Level.CRITICAL
        if value >= self.warning:
            return Level.WARNING
        return Level.OK


class Crossing(StrEnum):
    BREACHED = "breached"
    CLEARED = "cleared"


@dataclass(frozen=True)
class LevelChange:
    crossing: Crossing
    level: Level
    """The level breached (warning or critical), or the level cleared (the one left)."""


def level_change(previous: Level, current: Level) -> LevelChange | None:
    """What moving from `previous` to `current` publishes: a breach of the higher level when it
    rises, the clearing of the level left when it falls, nothing when it stays."""
    if _RANK[current] > _RANK[previous]:
        return LevelChange(Crossing.BREACHED, current)
    if _RANK[current] < _RANK[previous]:
        return LevelChange(Crossing.CLEARED, previous)
    return None


def validate_metric_name(name: str) -> str:
    if not METRIC_NAME.match(name):
        raise RuleViolation(
            "a metric name is lower case letters, digits and _ (up to 63), a letter first", field="name"
        )
    return name


# ------------------------------------------------------------------------------ the sampling grid


def grid_start(after: datetime | None, now: datetime, step: timedelta, *, first_look_back: int) -> datetime:
    """The first instant a pass asks for: the grid point after the last one stored (`after`), or,
    for a metric never sampled, `first_look_back` steps before now. Instants sit on multiples of
    `step` since the epoch, so a pass after an outage asks for exactly the instants the missed
    passes would have."""
    if after is not None:
        return _floor(after, step) + step
    return _floor(now, step) - step * first_look_back


def grid_end(now: datetime, step: timedelta) -> datetime:
    return _floor(now, step)


def grid_windows(start: datetime, end: datetime, step: timedelta, max_points: int) -> list[tuple[datetime, datetime]]:
    """[start, end] cut into windows of at most `max_points` grid instants each (Prometheus
    refuses a query_range of more than 11,000 points per series)."""
    windows: list[tuple[datetime, datetime]] = []
    while start <= end:
        last = min(end, start + step * (max_points - 1))
        windows.append((start, last))
        start = last + step
    return windows


def _floor(moment: datetime, step: timedelta) -> datetime:
    seconds = step.total_seconds()
    epoch = moment.timestamp()
    return datetime.fromtimestamp(math.floor(epoch / seconds) * seconds, UTC)


# ------------------------------------------------------------------------- forecast and runway


@dataclass(frozen=True)
class Forecast:
    """value(t) = intercept + slope * (t - origin) seconds: a least-squares line over the samples."""

    method: str
    origin: datetime
    slope_per_second: float
    intercept: float
    points: int
    horizon: timedelta

    def value_at(self, moment: datetime) -> float:
        return self.intercept + self.slope_per_second * (moment - self.origin).total_seconds()

    def runway(self, threshold: float, now: datetime) -> timedelta | None:
        """Time from `now` until the line reaches `threshold`: zero when it is there already, None
        when it never does (flat or falling below it) or only beyond the horizon."""
        current = self.value_at(now)
        if current >= threshold:
            return timedelta(0)
        if self.slope_per_second <= 0:
            return None
        until = timedelta(seconds=(threshold - current) / self.slope_per_second)
        return until if until <= self.horizon else None


def linear_forecast(samples: Sequence[tuple[datetime, float]], horizon: timedelta) -> Forecast | None:
    """Ordinary least squares over (time, value); None with fewer than two distinct instants."""
    if len({at for at, _ in samples}) < MIN_FORECAST_POINTS:
        return None
    origin = min(at for at, _ in samples)
    xs = [(at - origin).total_seconds() for at, _ in samples]
    ys = [value for _, value in samples]
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    return Forecast(FORECAST_METHOD, origin, slope, mean_y - slope * mean_x, n, horizon)


# ------------------------------------------------------------------------ the capacity plan


@dataclass(frozen=True)
class UpgradeItem:
    resource: str
    metric: str | None
    lead_time_days: int
    cost: Decimal
    currency: str
    target_date: date

    def order_by(self) -> date:
        """The last day to order it and still have it by the target date."""
        return self.target_date - timedelta(days=self.lead_time_days)


def validate_upgrade(item: UpgradeItem, index: int) -> UpgradeItem:
    field = f"upgrade_items.{index}"
    if not item.cost.is_finite() or item.cost < 0:
        raise RuleViolation("a cost is a finite amount, not below zero", field=f"{field}.cost")
    if not CURRENCY.match(item.currency):
        raise RuleViolation("an ISO 4217 code (three capital letters)", field=f"{field}.currency")
    if item.lead_time_days < 0:
        raise RuleViolation("a lead time is not negative", field=f"{field}.lead_time_days")
    try:
        item.order_by()
    except OverflowError:
        raise RuleViolation("the lead time reaches before the first day", field=f"{field}.lead_time_days") from None
    return item


def next_review(reviewed_on: date, review_interval_days: int) -> date:
    if review_interval_days < 1:
        raise RuleViolation("a review interval is at least one day", field="review_interval_days")
    try:
        return reviewed_on + timedelta(days=review_interval_days)
    except OverflowError:
        raise RuleViolation("the next review falls after the year 9999", field="reviewed_on") from None
