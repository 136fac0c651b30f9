"""A deployment's record read back: what recording keeps and fills in, what each later report,
verification and roll-back records (result, times, notes, row version, event), the refusals with
their state or field, and the standard change that follows it, step by step (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.change.domain.changes import Action, Change, ChangeStatus, ChangeType, StatusChanged
from services.change.domain.deployments import (
    Deployment,
    DeploymentChanged,
    DeploymentResult,
    Environment,
    environment_named,
    follow_deployment,
)
from shared.errors import InvalidTransition, RuleViolation

T0 = datetime(2031, 5, 6, 12, tzinfo=UTC)
DEPLOYMENT_ID = UUID(int=9)
DR = DeploymentResult


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def record(result: DeploymentResult = DR.SUCCEEDED, **overrides: Any) -> Deployment:
    values: dict[str, Any] = {
        "deployment_id": DEPLOYMENT_ID,
        "service": "acme/checkout",
        "service_id": None,
        "environment": Environment.PRODUCTION,
        "version": "2.4.0",
        "result": result,
        "started_at": None,
        "finished_at": None,
        "source": "github",
        "recorded_by": "github",
        "now": T0,
    }
    values.update(overrides)
    return Deployment.record(**values)


def refused_field(refused: pytest.ExceptionInfo[RuleViolation]) -> str:
    assert isinstance(refused.value.detail, str) and refused.value.detail
    (error,) = refused.value.extensions["errors"]
    return str(error["field"])


def test_recording_keeps_every_field_given() -> None:
    service_id, release_id, change_id = uuid4(), uuid4(), uuid4()
    item = record(
        DR.SUCCEEDED,
        service=" acme/checkout ",
        service_id=service_id,
        environment=Environment.STAGING,
        version="2.4.1",
        started_at=datetime(2031, 5, 6, 13, 50, tzinfo=timezone(timedelta(hours=2))),
        finished_at=datetime(2031, 5, 6, 11, 55, tzinfo=UTC),
        source="api",
        recorded_by="mike",
        release_id=release_id,
        change_id=change_id,
        change_number="CHG0000009",
        commit_sha="abc123",
        ref="refs/tags/v2.4.1",
        url="https://ci.example/run/7",
        external_id="gh-7",
        verification="smoke test passed",
    )
    assert (item.id, item.service, item.service_id, item.environment, item.version) == (
        DEPLOYMENT_ID,
        "acme/checkout",
        service_id,
        Environment.STAGING,
        "2.4.1",
    )
    assert (item.release_id, item.change_id, item.change_number) == (release_id, change_id, "CHG0000009")
    assert (item.result, item.started_at, item.finished_at) == (
        DR.SUCCEEDED,
        datetime(2031, 5, 6, 11, 50, tzinfo=UTC),
        datetime(2031, 5, 6, 11, 55, tzinfo=UTC),
    )
    assert (item.commit_sha, item.ref, item.url, item.external_id) == (
        "abc123",
        "refs/tags/v2.4.1",
        "https://ci.example/run/7",
        "gh-7",
    )
    assert (item.source, item.recorded_by, item.recorded_at, item.updated_at) == ("api", "mike", T0, T0)
    assert (item.verification, item.rollback_notes, item.row_version) == ("smoke test passed", "", 1)
    assert item.pending_events == [DeploymentChanged(DEPLOYMENT_ID)]


@pytest.mark.parametrize(
    ("result", "started", "finished"),
    [
        (DR.IN_PROGRESS, T0, None),  # running: started now, not finished
        (DR.SUCCEEDED, None, T0),  # reported done: finished now, start unknown
        (DR.FAILED, None, T0),
        (DR.ROLLED_BACK, None, T0),
    ],
)
def test_times_not_given_are_filled_in_from_the_result(
    result: DeploymentResult, started: datetime | None, finished: datetime | None
) -> None:
    item = record(result)
    assert (item.started_at, item.finished_at, item.verification) == (started, finished, "")


def test_a_start_given_is_kept_for_a_deployment_reported_done() -> None:
    item = record(DR.SUCCEEDED, started_at=at(-5))
    assert (item.started_at, item.finished_at) == (at(-5), T0)


def test_a_deployment_may_finish_the_instant_it_starts() -> None:
    item = record(DR.SUCCEEDED, started_at=at(-1), finished_at=at(-1))
    assert item.started_at == item.finished_at == at(-1)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"started_at": datetime(2031, 5, 6, 11)}, "started_at"),
        ({"finished_at": datetime(2031, 5, 6, 11)}, "finished_at"),
        ({"started_at": at(-1), "finished_at": at(-2)}, "finished_at"),
        ({"service": "  "}, "service"),
        ({"result": DR.IN_PROGRESS, "finished_at": at(-1)}, "finished_at"),
    ],
)
def test_a_record_that_breaks_a_rule_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        record(**overrides)
    assert refused_field(refused) == field


def test_a_later_result_records_its_finish_time_with_a_new_row_version_and_event() -> None:
    item = record(DR.IN_PROGRESS)
    item.pending_events.clear()
    assert item.report(DR.FAILED, at(5), finished_at=datetime(2031, 5, 6, 14, 4, tzinfo=timezone(timedelta(hours=2))))
    assert (item.result, item.finished_at, item.row_version, item.updated_at) == (DR.FAILED, at(4), 2, at(5))
    assert item.pending_events == [DeploymentChanged(DEPLOYMENT_ID)]
    with pytest.raises(RuleViolation) as naive:
        item.report(DR.ROLLED_BACK, at(6), finished_at=datetime(2031, 5, 6, 12, 6))
    assert refused_field(naive) == "finished_at"


def test_a_result_that_cannot_follow_is_refused_with_the_result_and_what_may_follow() -> None:
    item = record(DR.FAILED)
    with pytest.raises(InvalidTransition) as refused:
        item.report(DR.SUCCEEDED, at(1))
    assert refused.value.extensions == {"state": "failed", "allowed_actions": ["rolled_back"]}
    assert (item.result, item.row_version) == (DR.FAILED, 1)


def test_a_verification_records_what_was_checked_and_a_passed_one_keeps_the_success() -> None:
    item = record(DR.SUCCEEDED)
    item.pending_events.clear()
    item.verify("  smoke test: checkout returns 200 ", passed=True, now=at(3))
    assert (item.result, item.verification, item.row_version, item.updated_at) == (
        DR.SUCCEEDED,
        "smoke test: checkout returns 200",
        2,
        at(3),
    )
    assert item.pending_events == [DeploymentChanged(DEPLOYMENT_ID)]


def test_a_verification_is_refused_without_its_text_and_while_the_deployment_runs() -> None:
    with pytest.raises(RuleViolation) as blank:
        record(DR.SUCCEEDED).verify(" ", passed=True, now=T0)
    assert refused_field(blank) == "verification"
    running = record(DR.IN_PROGRESS)
    with pytest.raises(InvalidTransition) as refused:
        running.verify("smoke test", passed=True, now=T0)
    assert refused.value.extensions == {"state": "in_progress", "allowed_actions": ["roll_back"]}


def test_a_roll_back_records_its_notes_and_time() -> None:
    item = record(DR.FAILED)
    item.pending_events.clear()
    item.roll_back("  reverted to 2.3.9 ", at(7))
    assert (item.result, item.rollback_notes, item.finished_at, item.row_version, item.updated_at) == (
        DR.ROLLED_BACK,
        "reverted to 2.3.9",
        at(7),
        2,
        at(7),
    )
    assert item.pending_events == [DeploymentChanged(DEPLOYMENT_ID)]


def test_a_roll_back_is_refused_without_notes_and_once_rolled_back() -> None:
    with pytest.raises(RuleViolation) as blank:
        record(DR.FAILED).roll_back(" ", T0)
    assert refused_field(blank) == "notes"
    done = record(DR.ROLLED_BACK)
    with pytest.raises(InvalidTransition) as refused:
        done.roll_back("again", at(1))
    assert refused.value.extensions == {"state": "rolled_back", "allowed_actions": []}
    assert (done.rollback_notes, done.row_version) == ("", 1)


def test_an_unknown_environment_is_refused_in_words_naming_the_field() -> None:
    with pytest.raises(RuleViolation) as refused:
        environment_named("github-pages")
    assert refused_field(refused) == "environment"
    assert environment_named("  QA ") is Environment.TEST


def standard_change() -> Change:
    item = Change.draft(
        change_id=UUID(int=3),
        number="CHG0000009",
        title="Deploy",
        description="",
        justification="",
        change_type=ChangeType.STANDARD,
        category=None,
        requester="github",
        planned_start=T0,
        planned_end=T0 + timedelta(hours=1),
        affected_ci_ids=[],
        now=T0,
        template_id=uuid4(),
    )
    item.submit("github", T0, pre_approved=True)
    item.pending_events.clear()
    return item


@pytest.mark.parametrize(
    ("result", "last", "status"),
    [
        (DR.SUCCEEDED, Action.COMPLETE, ChangeStatus.IMPLEMENTED),
        (DR.FAILED, Action.FAIL, ChangeStatus.FAILED),
        (DR.ROLLED_BACK, Action.FAIL, ChangeStatus.FAILED),
    ],
)
def test_the_standard_change_records_each_step_it_follows_by_the_pipelines_actor_and_time(
    result: DeploymentResult, last: Action, status: ChangeStatus
) -> None:
    item = standard_change()
    follow_deployment(item, result, "pipeline", at(2))
    assert [(e.action, e.actor) for e in item.pending_events if isinstance(e, StatusChanged)] == [
        (Action.SCHEDULE, "pipeline"),
        (Action.START, "pipeline"),
        (last, "pipeline"),
    ]
    assert (item.status, item.updated_at) == (status, at(2))
    if status is ChangeStatus.FAILED:
        assert item.failed_at == at(2)
        assert {DR.FAILED: "failed", DR.ROLLED_BACK: "rolled back"}[result] in item.notes  # the result, in words


def test_a_running_deployment_leaves_its_standard_change_implementing_as_of_the_report() -> None:
    item = standard_change()
    follow_deployment(item, DR.IN_PROGRESS, "pipeline", at(1))
    assert (item.status, item.updated_at, item.version) == (ChangeStatus.IMPLEMENTING, at(1), 4)
    assert [e.actor for e in item.pending_events if isinstance(e, StatusChanged)] == ["pipeline", "pipeline"]
