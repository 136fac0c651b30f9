"""Performance arithmetic, the supplier hierarchy and disputes: pure domain rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from services.supplier.domain.disputes import Dispute, DisputeAction, DisputeStatus
from services.supplier.domain.performance import (
    ResolvedIncident,
    by_priority,
    check_period,
    measure,
    period_of,
    previous_periods,
    summarise,
)
from services.supplier.domain.suppliers import check_lead
from services.supplier.domain.terms import ServiceTarget
from shared.errors import InvalidTransition, RuleViolation

T0 = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)


def test_times_are_wall_clock_from_opening_and_compared_with_the_priority_target() -> None:
    target = ServiceTarget(priority=2, response_minutes=30, resolution_minutes=240)
    on_time = measure(
        opened_at=T0, first_response_at=T0 + timedelta(minutes=30), resolved_at=T0 + timedelta(hours=4), target=target
    )
    assert (on_time.response_s, on_time.resolution_s) == (1800, 14400)
    assert (on_time.response_breached, on_time.resolution_breached) == (False, False)
    late = measure(
        opened_at=T0, first_response_at=T0 + timedelta(minutes=31), resolved_at=T0 + timedelta(hours=5), target=target
    )
    assert (late.response_breached, late.resolution_breached) == (True, True)
    unanswered = measure(opened_at=T0, first_response_at=None, resolved_at=T0 + timedelta(hours=1), target=target)
    assert unanswered.response_s is None and not unanswered.response_breached
    no_target = measure(opened_at=T0, first_response_at=None, resolved_at=T0 + timedelta(days=9), target=None)
    assert not no_target.resolution_breached and no_target.resolution_target_s is None


def test_totals_and_per_priority_lines_count_breaches_means_and_change_success() -> None:
    resolved = [
        ResolvedIncident(1, 600.0, 3600.0, False, False),
        ResolvedIncident(1, 1200.0, 9000.0, True, True),
        ResolvedIncident(3, None, 100.0, False, False),
    ]
    totals = summarise(opened=4, resolved=resolved, changes=["implemented", "implemented", "failed", "implemented"])
    assert (totals.incidents_opened, totals.incidents_resolved, totals.breaches) == (4, 3, 2)
    assert (totals.mean_response_s, totals.mean_resolution_s) == (900.0, 4233.3)
    assert (totals.changes_implemented, totals.changes_failed, totals.change_success_rate) == (3, 1, 75.0)
    both = totals + summarise(opened=1, resolved=[ResolvedIncident(2, 300.0, 300.0, False, False)], changes=[])
    assert (both.incidents_opened, both.incidents_resolved, both.mean_response_s) == (5, 4, 700.0)

    lines = by_priority([ServiceTarget(1, 15, 120), ServiceTarget(2, 30, 480)], resolved)
    assert [line.priority for line in lines] == [1, 2, 3]
    p1 = lines[0]
    assert (p1.resolved, p1.resolution.breaches, p1.resolution.within_target_pct, p1.resolution.max_s) == (
        2,
        1,
        50.0,
        9000.0,
    )
    assert lines[1].resolved == 0 and lines[1].resolution_target_s == 28800
    assert lines[2].resolution_target_s is None and lines[2].resolution.within_target_pct is None


def test_periods_are_utc_months() -> None:
    assert period_of(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "2026-12"
    assert previous_periods("2026-02", 3) == ["2025-11", "2025-12", "2026-01"]
    with pytest.raises(RuleViolation):
        check_period("2026-13")


def test_the_supplier_hierarchy_refuses_a_loop_at_any_depth() -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    check_lead(a, [b, c])  # a under b, b under c: fine
    with pytest.raises(RuleViolation):
        check_lead(a, [a])
    with pytest.raises(RuleViolation):
        check_lead(a, [b, c, a])  # c is already under a


def test_a_dispute_goes_to_closure_with_its_resolution_and_refuses_skipped_steps() -> None:
    d = Dispute.open(
        dispute_id=uuid4(),
        number="DSP0000001",
        supplier_id=uuid4(),
        contract_id=None,
        title="Credits for the March outage",
        description="",
        owner="olga",
        amount=Decimal("5000"),
        currency="eur",
        actor="olga",
        now=T0,
    )
    with pytest.raises(InvalidTransition) as refused:
        d.act(DisputeAction.CLOSE, note="", actor="olga", now=T0)
    assert refused.value.extensions["allowed_actions"] == ["escalate", "negotiate", "resolve"]
    with pytest.raises(RuleViolation):
        d.act(DisputeAction.RESOLVE, note="", actor="olga", now=T0)
    d.act(DisputeAction.NEGOTIATE, note="call booked", actor="olga", now=T0)
    d.act(DisputeAction.RESOLVE, note="", actor="olga", now=T0, resolution="Credit of 3,000 EUR")
    d.act(DisputeAction.CLOSE, note="", actor="olga", now=T0 + timedelta(days=1))
    assert (d.status, d.resolution, d.closed_at, d.version) == (
        DisputeStatus.CLOSED,
        "Credit of 3,000 EUR",
        T0 + timedelta(days=1),
        4,
    )
