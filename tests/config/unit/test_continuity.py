"""Continuity and availability rules (6.3), pure: what a plan must hold, the approved change a new
version needs, when tests fall due (and sooner after a major change), the invocation lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.config.domain.continuity import (
    RETEST_DAYS,
    WARN_DAYS,
    DueStatus,
    InvocationStatus,
    RecoveryTarget,
    advance,
    check_return,
    due_status,
    next_test_due,
    require_approved_change,
    retest_due_by,
    validate_plan,
)
from services.config.domain.items import ChangeWindow
from shared.errors import InvalidTransition, RuleViolation

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
A, B, PLAN = uuid4(), uuid4(), uuid4()


def _field(error: pytest.ExceptionInfo[RuleViolation]) -> str:
    return str(error.value.extensions["errors"][0]["field"])


def test_a_plan_covers_services_once_and_states_recovery_only_for_those() -> None:
    validate_plan([A, B], [RecoveryTarget(A, 60, 5), RecoveryTarget(B, 0, 0)])
    validate_plan([A], [])
    with pytest.raises(RuleViolation) as none:
        validate_plan([], [])
    assert _field(none) == "service_ids"
    with pytest.raises(RuleViolation) as twice:
        validate_plan([A, A], [])
    assert _field(twice) == "service_ids"
    with pytest.raises(RuleViolation) as foreign:
        validate_plan([A], [RecoveryTarget(B, 60, 5)])
    assert _field(foreign) == "recovery_targets" and "recovery target 0" in str(foreign.value.detail)
    with pytest.raises(RuleViolation) as repeated:
        validate_plan([A, B], [RecoveryTarget(A, 60, 5), RecoveryTarget(A, 30, 5)])
    assert _field(repeated) == "recovery_targets" and "recovery target 1 repeats" in str(repeated.value.detail)


def _window(
    status: str = "approved", cis: frozenset[object] = frozenset({A}), **times: datetime | None
) -> ChangeWindow:
    start = times.get("start", NOW - timedelta(hours=1))
    end = times.get("end", NOW + timedelta(hours=1))
    return ChangeWindow(uuid4(), "CHG0000007", status, start, end, frozenset(cis))  # type: ignore[arg-type]


def test_a_new_version_needs_an_approved_change_in_its_window_naming_the_plan_or_a_service() -> None:
    require_approved_change([A, B], PLAN, _window(), "CHG0000007", NOW)  # names A
    require_approved_change([B], PLAN, _window(cis=frozenset({PLAN})), "CHG0000007", NOW)  # names the plan
    require_approved_change([A], PLAN, _window("implementing"), "CHG0000007", NOW)
    cases = {
        "approved change: name it": (None, None),
        "not known to the CMDB": (None, "CHG0000007"),
        "is draft, not approved": (_window("draft"), "CHG0000007"),
        "names neither the plan nor a service it covers": (_window(cis=frozenset({uuid4()})), "CHG0000007"),
        "window opens at": (_window(start=NOW + timedelta(minutes=1)), "CHG0000007"),
        "window closed at": (_window(end=NOW - timedelta(minutes=1)), "CHG0000007"),
        "has no implementation window": (_window(start=None), "CHG0000007"),
    }
    for why, (change, number) in cases.items():
        with pytest.raises(RuleViolation) as refused:
            require_approved_change([A], PLAN, change, number, NOW)
        assert _field(refused) == "change_number"
        assert why in str(refused.value.detail), (why, refused.value.detail)


def test_tests_fall_due_on_schedule_and_sooner_after_a_major_change() -> None:
    created = NOW - timedelta(days=100)
    assert next_test_due(None, created, 365) == created + timedelta(days=365)
    assert next_test_due(NOW, created, 30) == NOW + timedelta(days=30)
    scheduled = NOW + timedelta(days=200)
    assert retest_due_by(scheduled, NOW, RETEST_DAYS) == NOW + timedelta(days=RETEST_DAYS)
    assert retest_due_by(NOW + timedelta(days=5), NOW, RETEST_DAYS) == NOW + timedelta(days=5)
    due = NOW + timedelta(days=WARN_DAYS)
    assert due_status(due, NOW, WARN_DAYS) is DueStatus.DUE  # the first instant it shows as due
    assert due_status(due + timedelta(seconds=1), NOW, WARN_DAYS) is DueStatus.OK
    assert due_status(NOW, NOW, WARN_DAYS) is DueStatus.DUE  # due now is not yet overdue
    assert due_status(NOW - timedelta(seconds=1), NOW, WARN_DAYS) is DueStatus.OVERDUE
    assert (RETEST_DAYS, WARN_DAYS) == (30, 30)


def test_an_invocation_returns_to_normal_then_is_reviewed() -> None:
    assert advance(InvocationStatus.INVOKED, "return") is InvocationStatus.RETURNED_TO_NORMAL
    assert advance(InvocationStatus.RETURNED_TO_NORMAL, "review") is InvocationStatus.REVIEWED
    with pytest.raises(InvalidTransition) as early:
        advance(InvocationStatus.INVOKED, "review")
    assert early.value.extensions["allowed_actions"] == ["return"]
    with pytest.raises(InvalidTransition) as again:
        advance(InvocationStatus.RETURNED_TO_NORMAL, "return")
    assert again.value.extensions["allowed_actions"] == ["review"]
    with pytest.raises(InvalidTransition) as done:
        advance(InvocationStatus.REVIEWED, "review")
    assert done.value.extensions["allowed_actions"] == []


def test_the_return_to_normal_is_after_the_invocation_and_not_in_the_future() -> None:
    check_return(NOW - timedelta(hours=2), NOW - timedelta(hours=1), NOW)
    check_return(NOW, NOW, NOW)
    for returned in (NOW - timedelta(hours=3), NOW + timedelta(seconds=1)):
        with pytest.raises(RuleViolation) as refused:
            check_return(NOW - timedelta(hours=2), returned, NOW)
        assert _field(refused) == "returned_to_normal_at"
