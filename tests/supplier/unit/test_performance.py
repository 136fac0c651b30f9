"""Supplier performance figures: times against targets, means and percentages as shown, totals that
add up across periods, and months that do not depend on the server's time zone."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.supplier.domain.performance import (
    ResolvedIncident,
    TimeFigures,
    Totals,
    by_priority,
    check_period,
    measure,
    period_of,
    summarise,
    totals_of,
)
from services.supplier.domain.terms import ServiceTarget
from shared.errors import RuleViolation

T0 = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)


def test_targets_are_stated_in_minutes_and_measured_in_seconds() -> None:
    m = measure(opened_at=T0, first_response_at=T0, resolved_at=T0, target=ServiceTarget(1, 30, 240))
    assert (m.response_target_s, m.resolution_target_s) == (1800, 14400)


def test_an_immediate_response_and_resolution_take_zero_seconds_and_clock_skew_never_goes_negative() -> None:
    m = measure(opened_at=T0, first_response_at=T0, resolved_at=T0, target=None)
    assert (m.response_s, m.resolution_s) == (0.0, 0.0)
    skewed = measure(
        opened_at=T0, first_response_at=T0 - timedelta(seconds=5), resolved_at=T0 - timedelta(seconds=5), target=None
    )
    assert (skewed.response_s, skewed.resolution_s) == (0.0, 0.0)


def test_a_target_without_a_response_time_measures_only_resolution() -> None:
    m = measure(opened_at=T0, first_response_at=T0 + timedelta(hours=9), resolved_at=T0, target=ServiceTarget(1))
    assert (m.response_target_s, m.resolution_target_s, m.response_breached) == (None, None, False)


def test_a_period_is_the_utc_month_whatever_the_server_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    time.tzset()
    try:
        at = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
        assert period_of(at) == "2026-12"
        assert period_of(at.astimezone(timezone(timedelta(hours=14)))) == "2026-12"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("bad", ["2026-00", "2026-1", "26-01", "2026-01-01", "January"])
def test_a_period_that_is_not_a_month_names_the_period(bad: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        check_period(bad)
    assert refused.value.detail
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["period"]


def test_a_period_that_is_a_month_is_accepted_as_written() -> None:
    assert check_period("2026-10") == "2026-10"


def test_a_priority_with_a_target_and_no_incidents_shows_zero_measured_and_no_breaches() -> None:
    (line,) = by_priority([ServiceTarget(2, 30, 480)], [])
    assert (line.priority, line.response_target_s, line.resolution_target_s, line.resolved) == (2, 1800, 28800, 0)
    assert line.response == line.resolution == TimeFigures(0, None, None, 0, None)


def test_per_priority_response_figures_count_only_answered_incidents_against_the_target() -> None:
    resolved = [
        ResolvedIncident(1, 1.0, 10.0, False, False),
        ResolvedIncident(1, 2.0, 20.0, False, False),
        ResolvedIncident(1, 2.0, 21.0, True, True),
        ResolvedIncident(1, None, 30.0, False, False),
    ]
    (line,) = by_priority([ServiceTarget(1, 15, None)], resolved)
    assert (line.response_target_s, line.resolution_target_s, line.resolved) == (900, None, 4)
    # 3 answered, one late: 66.67% within, mean 1.67 s shown to one decimal
    assert line.response == TimeFigures(3, 1.7, 2.0, 1, 66.67)
    assert line.resolution == TimeFigures(4, 20.2, 30.0, 1, None)


def test_a_priority_without_a_target_has_no_within_target_share() -> None:
    (line,) = by_priority([], [ResolvedIncident(4, 60.0, 120.0, False, False)])
    assert (line.response_target_s, line.resolution_target_s) == (None, None)
    assert line.response == TimeFigures(1, 60.0, 60.0, 0, None)


def test_totals_show_means_to_one_decimal_and_none_when_nothing_was_measured() -> None:
    nothing = summarise(opened=2, resolved=[], changes=[])
    assert (nothing.mean_response_s, nothing.mean_resolution_s, nothing.change_success_rate) == (None, None, None)
    assert nothing.sla_breaches == 0
    unanswered = summarise(opened=1, resolved=[ResolvedIncident(1, None, 5.0, False, False)], changes=[])
    assert (unanswered.mean_response_s, unanswered.mean_resolution_s) == (None, 5.0)
    thirds = summarise(
        opened=3,
        resolved=[ResolvedIncident(1, s, s, False, False) for s in (1.0, 2.0, 2.0)],
        changes=["implemented", "failed", "failed"],
        sla_breaches=2,
    )
    assert (thirds.mean_response_s, thirds.mean_resolution_s) == (1.7, 1.7)
    assert (thirds.change_success_rate, thirds.sla_breaches) == (33.33, 2)


def test_totals_of_two_periods_add_every_count_and_recompute_the_means() -> None:
    october = totals_of(
        opened=3,
        resolved=2,
        response_breaches=1,
        resolution_breaches=2,
        measured_responses=2,
        sum_response_s=100.0,
        sum_resolution_s=1000.0,
        changes_implemented=4,
        changes_failed=1,
        sla_breaches=1,
    )
    november = totals_of(
        opened=1,
        resolved=2,
        response_breaches=1,
        resolution_breaches=1,
        measured_responses=1,
        sum_response_s=50.0,
        sum_resolution_s=500.0,
        changes_implemented=2,
        changes_failed=2,
        sla_breaches=3,
    )
    assert october + november == Totals(
        incidents_opened=4,
        incidents_resolved=4,
        response_breaches=2,
        resolution_breaches=3,
        mean_response_s=50.0,
        mean_resolution_s=375.0,
        changes_implemented=6,
        changes_failed=3,
        sla_breaches=4,
        measured_responses=3,
        sum_response_s=150.0,
        sum_resolution_s=1500.0,
    )
    assert (october + november).breaches == 5
