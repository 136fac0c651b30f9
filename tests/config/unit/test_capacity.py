"""Capacity rules: levels against thresholds, what a change of level publishes, the sampling
grid, the linear forecast on a synthetic series of known slope, and the plan's upgrade items."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.config.domain.capacity import (
    Crossing,
    Level,
    LevelChange,
    Thresholds,
    UpgradeItem,
    grid_end,
    grid_start,
    grid_windows,
    level_change,
    linear_forecast,
    next_review,
    validate_metric_name,
    validate_upgrade,
)
from shared.errors import RuleViolation

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
STEP = timedelta(seconds=15)


def test_a_value_at_or_over_a_threshold_is_at_its_level() -> None:
    t = Thresholds(warning=70, critical=90)
    assert [t.level_of(v) for v in (69.99, 70, 89.99, 90, 1000)] == [
        Level.OK,
        Level.WARNING,
        Level.WARNING,
        Level.CRITICAL,
        Level.CRITICAL,
    ]
    same = Thresholds(warning=5, critical=5)
    assert (same.level_of(4.9), same.level_of(5)) == (Level.OK, Level.CRITICAL)


@pytest.mark.parametrize(
    ("warning", "critical", "field", "detail"),
    [
        (91, 90, "warning", "the warning threshold is not above the critical one"),
        (float("nan"), 90, "critical", "thresholds are finite numbers"),
    ],
)
def test_thresholds_in_the_wrong_order_or_not_numbers_are_refused(
    warning: float, critical: float, field: str, detail: str
) -> None:
    with pytest.raises(RuleViolation) as raised:
        Thresholds(warning=warning, critical=critical)
    assert raised.value.extensions["errors"][0]["field"] == field
    assert raised.value.detail == detail


def test_infinite_critical_threshold_is_refused() -> None:
    with pytest.raises(RuleViolation):
        Thresholds(warning=1, critical=float("inf"))


def test_rising_breaches_the_higher_level_and_falling_clears_the_one_left() -> None:
    assert level_change(Level.OK, Level.CRITICAL) == LevelChange(Crossing.BREACHED, Level.CRITICAL)
    assert level_change(Level.OK, Level.WARNING) == LevelChange(Crossing.BREACHED, Level.WARNING)
    assert level_change(Level.WARNING, Level.CRITICAL) == LevelChange(Crossing.BREACHED, Level.CRITICAL)
    assert level_change(Level.CRITICAL, Level.OK) == LevelChange(Crossing.CLEARED, Level.CRITICAL)
    assert level_change(Level.CRITICAL, Level.WARNING) == LevelChange(Crossing.CLEARED, Level.CRITICAL)
    assert level_change(Level.WARNING, Level.OK) == LevelChange(Crossing.CLEARED, Level.WARNING)
    for level in Level:
        assert level_change(level, level) is None


@pytest.mark.parametrize("name", ["cpu", "disk_used_ratio", "a" * 63, "q1"])
def test_metric_names(name: str) -> None:
    assert validate_metric_name(name) == name


@pytest.mark.parametrize("name", ["", "CPU", "1cpu", "cpu-load", "a" * 64, "cpu load", "_x"])
def test_bad_metric_names_are_refused(name: str) -> None:
    with pytest.raises(RuleViolation) as raised:
        validate_metric_name(name)
    assert raised.value.extensions["errors"][0]["field"] == "name"
    assert raised.value.detail == "a metric name is lower case letters, digits and _ (up to 63), a letter first"


def test_the_grid_continues_after_the_last_stored_instant_on_multiples_of_the_step() -> None:
    now = T0 + timedelta(seconds=37)
    assert grid_end(now, STEP) == T0 + timedelta(seconds=30)
    assert grid_start(T0 + timedelta(seconds=15), now, STEP, first_look_back=4) == T0 + timedelta(seconds=30)
    assert grid_start(T0 + timedelta(seconds=16), now, STEP, first_look_back=4) == T0 + timedelta(seconds=30)
    # never sampled: a few steps back from now's grid point
    assert grid_start(None, now, STEP, first_look_back=4) == T0 - timedelta(seconds=30)
    assert grid_start(None, now, STEP, first_look_back=0) == T0 + timedelta(seconds=30)


def test_a_long_gap_is_asked_for_in_windows_of_bounded_points() -> None:
    end = T0 + STEP * 9
    assert grid_windows(T0, end, STEP, max_points=4) == [
        (T0, T0 + STEP * 3),
        (T0 + STEP * 4, T0 + STEP * 7),
        (T0 + STEP * 8, end),
    ]
    assert grid_windows(T0, T0, STEP, max_points=4) == [(T0, T0)]
    assert grid_windows(T0 + STEP, T0, STEP, max_points=4) == []
    assert grid_windows(T0, T0 + STEP, STEP, max_points=2) == [(T0, T0 + STEP)]


def test_the_linear_forecast_finds_a_known_slope_and_the_runway_to_a_threshold() -> None:
    # 2 units per hour from 40, with noise that cancels out
    noise = [0.5, -0.5, 0.25, -0.25, 0.0, 0.5, -0.5, 0.25, -0.25, 0.0]
    series = [(T0 + timedelta(hours=h), 40 + 2 * h + noise[h]) for h in range(10)]
    forecast = linear_forecast(series, horizon=timedelta(days=30))
    assert forecast is not None
    assert forecast.method == "linear" and forecast.points == 10 and forecast.origin == T0
    assert forecast.slope_per_second * 3600 == pytest.approx(2.0, abs=0.05)
    assert forecast.value_at(T0) == pytest.approx(40, abs=0.5)
    assert forecast.value_at(T0 + timedelta(hours=10)) == pytest.approx(60, abs=0.5)
    now = T0 + timedelta(hours=10)
    runway = forecast.runway(90, now)
    assert runway is not None
    assert runway.total_seconds() / 3600 == pytest.approx(15, abs=0.5)


def test_an_exact_line_gives_its_slope_and_intercept() -> None:
    series = [(T0 + timedelta(seconds=10 * i), 5.0 + 0.5 * 10 * i) for i in range(5)]
    forecast = linear_forecast(series, horizon=timedelta(hours=1))
    assert forecast is not None
    assert forecast.slope_per_second == pytest.approx(0.5)
    assert forecast.intercept == pytest.approx(5.0)
    assert forecast.horizon == timedelta(hours=1)
    # 5 + 0.5 t reaches 30 at t = 50 s; from t = 40 (25.0) that is 10 s away
    assert forecast.runway(30, T0 + timedelta(seconds=40)) == timedelta(seconds=10)
    assert forecast.runway(25, T0 + timedelta(seconds=40)) == timedelta(0)
    assert forecast.runway(20, T0 + timedelta(seconds=40)) == timedelta(0)
    # beyond the horizon: no runway claimed
    assert forecast.runway(5000, T0 + timedelta(seconds=40)) is None
    assert forecast.runway(5.0 + 0.5 * 3640, T0 + timedelta(seconds=40)) == timedelta(hours=1)


def test_a_flat_or_falling_series_has_no_runway_and_one_instant_no_forecast() -> None:
    flat = linear_forecast([(T0, 3.0), (T0 + STEP, 3.0)], horizon=timedelta(days=1))
    assert flat is not None and flat.slope_per_second == 0 and flat.runway(4, T0) is None
    assert flat.runway(3.0, T0) == timedelta(0)  # at the threshold already, even flat
    falling = linear_forecast([(T0, 3.0), (T0 + STEP, 2.0)], horizon=timedelta(days=1))
    assert falling is not None and falling.runway(4, T0) is None
    assert linear_forecast([(T0, 1.0), (T0, 2.0)], horizon=timedelta(days=1)) is None
    assert linear_forecast([], horizon=timedelta(days=1)) is None


def _item(**changes: object) -> UpgradeItem:
    values: dict[str, object] = {
        "resource": "db storage",
        "metric": "disk_used_ratio",
        "lead_time_days": 30,
        "cost": Decimal("1250.50"),
        "currency": "EUR",
        "target_date": date(2027, 3, 1),
    }
    return UpgradeItem(**{**values, **changes})  # type: ignore[arg-type]


def test_an_upgrade_item_is_ordered_its_lead_time_before_its_target() -> None:
    item = validate_upgrade(_item(), 0)
    assert item.order_by() == date(2027, 1, 30)
    assert validate_upgrade(_item(cost=Decimal(0), lead_time_days=0), 0).order_by() == date(2027, 3, 1)


COST, CURRENCY, LEAD_TIME = (
    "a cost is a finite amount, not below zero",
    "an ISO 4217 code (three capital letters)",
    "a lead time is not negative",
)


@pytest.mark.parametrize(
    ("changes", "field", "detail"),
    [
        ({"cost": Decimal("-0.01")}, "upgrade_items.2.cost", COST),
        ({"cost": Decimal("NaN")}, "upgrade_items.2.cost", COST),
        ({"cost": Decimal("Infinity")}, "upgrade_items.2.cost", COST),
        ({"currency": "eur"}, "upgrade_items.2.currency", CURRENCY),
        ({"currency": "EURO"}, "upgrade_items.2.currency", CURRENCY),
        ({"lead_time_days": -1}, "upgrade_items.2.lead_time_days", LEAD_TIME),
        (
            {"lead_time_days": 2, "target_date": date(1, 1, 2)},
            "upgrade_items.2.lead_time_days",
            "the lead time reaches before the first day",
        ),
    ],
)
def test_bad_upgrade_items_are_refused_naming_the_field(changes: dict[str, object], field: str, detail: str) -> None:
    with pytest.raises(RuleViolation) as raised:
        validate_upgrade(_item(**changes), 2)
    assert raised.value.extensions["errors"][0]["field"] == field
    assert raised.value.detail == detail


def test_the_next_review_is_an_interval_after_the_last() -> None:
    assert next_review(date(2026, 12, 1), 90) == date(2027, 3, 1)
    assert next_review(date(2026, 12, 1), 1) == date(2026, 12, 2)
    with pytest.raises(RuleViolation) as raised:
        next_review(date(2026, 12, 1), 0)
    assert raised.value.extensions["errors"][0]["field"] == "review_interval_days"
    assert raised.value.detail == "a review interval is at least one day"
    with pytest.raises(RuleViolation) as raised:
        next_review(date(9999, 12, 1), 31)
    assert raised.value.extensions["errors"][0]["field"] == "reviewed_on"
    assert raised.value.detail == "the next review falls after the year 9999"
    assert next_review(date(9999, 12, 1), 30) == date(9999, 12, 31)
