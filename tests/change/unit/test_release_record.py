"""A release's record read back: what planning keeps, what each move records (status, row version,
time, actor, event), the acceptance and failure notes, and the refusals with their state or field,
checked before the notes are (no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.change.domain.changes import required_text
from services.change.domain.releases import (
    AcceptanceResult,
    Release,
    ReleaseAction,
    ReleaseMoved,
    ReleasePlanned,
    ReleaseStatus,
    ReleaseType,
)
from shared.errors import Conflict, InvalidTransition, RuleViolation

T0 = datetime(2031, 5, 6, 12, tzinfo=UTC)
RELEASE_ID = UUID(int=5)
CHANGE_A, CHANGE_B = UUID(int=1), UUID(int=2)
APPROVED = {CHANGE_A: ("CHG0000001", "approved"), CHANGE_B: ("CHG0000002", "closed")}


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def plan(**overrides: Any) -> Release:
    values: dict[str, Any] = {
        "release_id": RELEASE_ID,
        "number": "REL0000001",
        "name": "Checkout 2.4",
        "version": "2.4.0",
        "release_type": ReleaseType.MINOR,
        "service_id": None,
        "change_ids": [CHANGE_A, CHANGE_B],
        "known_error_ids": [],
        "planned_date": None,
        "acceptance_criteria": ["p95 checkout under 300 ms"],
        "actor": "mike",
        "now": T0,
    }
    values.update(overrides)
    return Release.plan(**values)


def at_status(status: ReleaseStatus, release_type: ReleaseType = ReleaseType.MINOR) -> Release:
    item = plan(release_type=release_type)
    item.status = status
    item.pending_events.clear()
    return item


def refused_field(refused: pytest.ExceptionInfo[RuleViolation]) -> str:
    assert isinstance(refused.value.detail, str) and refused.value.detail
    (error,) = refused.value.extensions["errors"]
    return str(error["field"])


def test_planning_keeps_every_field_given_with_each_id_once() -> None:
    service, error_a, error_b = uuid4(), uuid4(), uuid4()
    item = plan(
        name="  Checkout 2.4 ",
        version=" 2.4.0 ",
        release_type=ReleaseType.MAJOR,
        service_id=service,
        change_ids=[CHANGE_B, CHANGE_A, CHANGE_B],
        known_error_ids=[error_b, error_a, error_b],
        planned_date=datetime(2031, 5, 7, 22, tzinfo=timezone(timedelta(hours=2))),
        acceptance_criteria=[" p95 under 300 ms ", " "],
        actor="olga",
        now=at(1),
    )
    assert (item.id, item.number, item.name, item.version) == (RELEASE_ID, "REL0000001", "Checkout 2.4", "2.4.0")
    assert (item.release_type, item.service_id, item.status) == (ReleaseType.MAJOR, service, ReleaseStatus.PLANNED)
    assert item.change_ids == (CHANGE_B, CHANGE_A)  # in the order given, each once
    assert item.known_error_ids == (error_b, error_a)
    assert item.planned_date == datetime(2031, 5, 7, 20, tzinfo=UTC)
    assert item.acceptance_criteria == ("p95 under 300 ms",)
    assert (item.created_by, item.created_at, item.updated_at, item.row_version) == ("olga", at(1), at(1), 1)
    assert item.pending_events == [ReleasePlanned(RELEASE_ID)]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": " "}, "name"),
        ({"version": ""}, "version"),
        ({"planned_date": datetime(2031, 5, 7, 22)}, "planned_date"),
    ],
)
def test_a_plan_that_breaks_a_rule_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        plan(**overrides)
    assert refused_field(refused) == field


def test_a_required_text_refusal_carries_the_reason_given() -> None:
    with pytest.raises(RuleViolation) as refused:
        required_text("  ", "name", "a release needs a name")
    assert refused.value.detail == "a release needs a name"
    assert refused.value.extensions["errors"] == [{"field": "name", "reason": "a release needs a name"}]
    assert required_text(" x ", "name", "unused") == "x"


def test_each_move_records_its_time_actor_and_event_and_adds_one_row_version() -> None:
    item = plan()
    item.pending_events.clear()
    moves: list[tuple[ReleaseAction, Callable[[str, datetime], None], ReleaseStatus]] = [
        (ReleaseAction.BUILD, lambda who, now: item.build(who, now), ReleaseStatus.BUILT),
        (ReleaseAction.ACCEPT, lambda who, now: item.accept("load test passed", who, now), ReleaseStatus.ACCEPTED),
        (ReleaseAction.DEPLOY, lambda who, now: item.deploy(who, now, APPROVED), ReleaseStatus.DEPLOYED),
        (ReleaseAction.FAIL, lambda who, now: item.fail(" errors on payment ", who, now), ReleaseStatus.FAILED),
        (ReleaseAction.CLOSE, lambda who, now: item.close(who, now), ReleaseStatus.CLOSED),
    ]
    previous = ReleaseStatus.PLANNED
    for minute, (action, move, status) in enumerate(moves, start=1):
        actor = f"user{minute}"
        move(actor, at(minute))
        assert (item.status, item.row_version, item.updated_at) == (status, 1 + minute, at(minute))
        assert item.pending_events[-1] == ReleaseMoved(RELEASE_ID, action, previous, status, actor)
        previous = status
    assert (item.acceptance_result, item.acceptance_notes, item.acceptance_by) == (
        AcceptanceResult.PASSED,
        "load test passed",
        "user2",
    )
    assert item.deployed_at == at(3)
    assert item.notes == "errors on payment"


def test_a_rejection_and_a_cancellation_record_who_when_and_why() -> None:
    item = at_status(ReleaseStatus.BUILT)
    item.reject("  p95 was 450 ms ", "qa-lead", at(2))
    assert (item.acceptance_result, item.acceptance_notes, item.acceptance_by) == (
        AcceptanceResult.FAILED,
        "p95 was 450 ms",
        "qa-lead",
    )
    assert (item.status, item.row_version, item.updated_at) == (ReleaseStatus.ACCEPTANCE_FAILED, 2, at(2))
    assert item.pending_events[-1] == ReleaseMoved(
        RELEASE_ID, ReleaseAction.REJECT, ReleaseStatus.BUILT, ReleaseStatus.ACCEPTANCE_FAILED, "qa-lead"
    )
    item.cancel("olga", at(3))
    assert item.pending_events[-1] == ReleaseMoved(
        RELEASE_ID, ReleaseAction.CANCEL, ReleaseStatus.ACCEPTANCE_FAILED, ReleaseStatus.CANCELLED, "olga"
    )
    assert (item.row_version, item.updated_at) == (3, at(3))


@pytest.mark.parametrize(
    ("status", "action", "field"),
    [
        (ReleaseStatus.BUILT, lambda r: r.accept(" ", "mike", T0), "notes"),
        (ReleaseStatus.BUILT, lambda r: r.reject(" ", "mike", T0), "notes"),
        (ReleaseStatus.DEPLOYED, lambda r: r.fail(" ", "mike", T0), "notes"),
    ],
)
def test_a_move_without_its_notes_is_refused_naming_them(status: ReleaseStatus, action: Any, field: str) -> None:
    item = at_status(status)
    with pytest.raises(RuleViolation) as refused:
        action(item)
    assert refused_field(refused) == field
    assert (item.status, item.row_version) == (status, 1)


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [
        (ReleaseStatus.PLANNED, lambda r: r.accept(" ", "mike", T0), ["build", "cancel"]),
        (ReleaseStatus.PLANNED, lambda r: r.reject(" ", "mike", T0), ["build", "cancel"]),
        (ReleaseStatus.ACCEPTED, lambda r: r.fail(" ", "mike", T0), ["cancel", "deploy"]),
        (ReleaseStatus.CLOSED, lambda r: r.deploy("mike", T0, {}), []),
    ],
)
def test_a_move_the_status_does_not_allow_is_refused_before_its_notes_or_changes_are_looked_at(
    status: ReleaseStatus, action: Any, allowed: list[str]
) -> None:
    item = at_status(status)
    with pytest.raises(InvalidTransition) as refused:
        action(item)
    assert refused.value.extensions == {"state": status.value, "allowed_actions": allowed}


def test_an_emergency_release_has_its_shortcut_only_once_built() -> None:
    assert at_status(ReleaseStatus.PLANNED, ReleaseType.EMERGENCY).allowed_actions() == ["build", "cancel"]
    assert at_status(ReleaseStatus.DEPLOYED, ReleaseType.EMERGENCY).allowed_actions() == ["close", "fail"]
    assert at_status(ReleaseStatus.BUILT, ReleaseType.EMERGENCY).allowed_actions() == [
        "accept",
        "reject",
        "cancel",
        "deploy",
    ]


def test_a_release_with_a_change_nobody_knows_is_not_deployed() -> None:
    item = at_status(ReleaseStatus.ACCEPTED)
    with pytest.raises(Conflict) as refused:
        item.deploy("mike", T0, {CHANGE_A: ("CHG0000001", "approved"), CHANGE_B: ("CHG0000002", "draft")})
    assert refused.value.extensions == {"unapproved_changes": ["CHG0000002 is draft"]}
    assert isinstance(refused.value.detail, str) and "REL0000001" in refused.value.detail
    with pytest.raises(Conflict) as unknown:
        item.deploy("mike", T0, {CHANGE_A: ("CHG0000001", "approved")})
    assert unknown.value.extensions == {"unapproved_changes": [f"{CHANGE_B} is unknown"]}
    assert (item.status, item.deployed_at) == (ReleaseStatus.ACCEPTED, None)


def test_acceptance_without_agreed_criteria_is_refused_in_words_naming_them() -> None:
    item = plan(acceptance_criteria=[" "])
    item.build("mike", T0)
    with pytest.raises(RuleViolation) as refused:
        item.accept("looked fine", "mike", T0)
    assert refused_field(refused) == "acceptance_criteria"
    assert (item.status, item.acceptance_result) == (ReleaseStatus.BUILT, None)
