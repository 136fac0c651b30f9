"""The problem lifecycle (ISO/IEC 20000-1 8.2): every allowed action, every refused one with the
actions allowed instead, and what each records (no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from services.incident.domain.known_errors import KnownError, KnownErrorStatus, require_match_scope
from services.incident.domain.priority import Impact, Urgency
from services.incident.domain.problems import (
    TRANSITIONS,
    Problem,
    ProblemAction,
    ProblemChanged,
    ProblemOpened,
    ProblemOrigin,
    ProblemStatus,
)
from shared.errors import InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
S, A = ProblemStatus, ProblemAction
CHANGE = uuid.uuid4()


def opened() -> Problem:
    problem = Problem.open(
        problem_id=uuid.uuid4(),
        number="PRB0000001",
        title="Mail relay drops messages",
        description="",
        origin=ProblemOrigin.MANUAL,
        actor="pam",
        now=NOW,
    )
    problem.pending_events.clear()
    return problem


def _publish(p: Problem) -> None:
    p.publish_known_error(
        root_cause="queue full", workaround="restart relay", known_error_id=uuid.uuid4(), actor="pam", now=NOW
    )


# How to reach each status from new.
PATHS: dict[ProblemStatus, list[Callable[[Problem], None]]] = {
    S.NEW: [],
    S.UNDER_INVESTIGATION: [lambda p: p.investigate("pam", NOW)],
    S.KNOWN_ERROR: [lambda p: p.investigate("pam", NOW), _publish],
    S.RESOLVED: [lambda p: p.investigate("pam", NOW), lambda p: p.resolve(resolution="patched", actor="pam", now=NOW)],
    S.CLOSED: [
        lambda p: p.investigate("pam", NOW),
        lambda p: p.resolve(resolution="patched", actor="pam", now=NOW),
        lambda p: p.close("pam", NOW),
    ],
    S.CANCELLED: [lambda p: p.cancel("duplicate", "pam", NOW)],
}


def in_status(status: ProblemStatus) -> Problem:
    problem = opened()
    for step in PATHS[status]:
        step(problem)
    assert problem.status is status
    problem.pending_events.clear()
    return problem


# Each action, done with valid arguments.
DO: dict[ProblemAction, Callable[[Problem], None]] = {
    A.UPDATE: lambda p: p.update({"root_cause": "a full queue"}, "pam", NOW),
    A.LINK_INCIDENT: lambda p: p.link_incidents([uuid.uuid4()], "pam", NOW),
    A.LINK_CHANGE: lambda p: p.link_change(CHANGE, "CHG0000042", "pam", NOW),
    A.INVESTIGATE: lambda p: p.investigate("pam", NOW),
    A.PUBLISH_KNOWN_ERROR: _publish,
    A.RESOLVE: lambda p: p.resolve(resolution="patched", actor="pam", now=NOW),
    A.REOPEN: lambda p: p.reopen("it happened again", "pam", NOW),
    A.CLOSE: lambda p: p.close("pam", NOW),
    A.CANCEL: lambda p: p.cancel("duplicate", "pam", NOW),
}

ALLOWED = [(status, action) for status, actions in TRANSITIONS.items() for action in actions]
REFUSED = [(status, action) for status in S for action in A if action not in TRANSITIONS[status]]


def test_the_table_covers_every_status_and_the_paths_reach_them() -> None:
    assert set(TRANSITIONS) == set(S)
    assert set(PATHS) == set(S)
    assert set(DO) == set(A)


@pytest.mark.parametrize(("status", "action"), ALLOWED, ids=[f"{s}-{a}" for s, a in ALLOWED])
def test_each_allowed_action_leads_where_the_table_says_and_records_one_event(
    status: ProblemStatus, action: ProblemAction
) -> None:
    problem = in_status(status)
    version = problem.version
    DO[action](problem)
    assert problem.status is (TRANSITIONS[status][action] or status)
    assert problem.version == version + 1
    [event] = problem.pending_events
    assert isinstance(event, ProblemChanged)
    assert (event.action, event.previous_status, event.status) == (action, status, problem.status)


@pytest.mark.parametrize(("status", "action"), REFUSED, ids=[f"{s}-{a}" for s, a in REFUSED])
def test_each_refused_action_is_a_conflict_naming_the_allowed_ones(
    status: ProblemStatus, action: ProblemAction
) -> None:
    problem = in_status(status)
    before = (problem.status, problem.version)
    with pytest.raises(InvalidTransition) as refused:
        DO[action](problem)
    assert refused.value.extensions["state"] == status.value
    assert refused.value.extensions["allowed_actions"] == sorted(a.value for a in TRANSITIONS[status])
    assert (problem.status, problem.version) == before
    assert problem.pending_events == []


def test_opening_numbers_nothing_yet_and_records_the_opening() -> None:
    problem = Problem.open(
        problem_id=uuid.uuid4(),
        number="",
        title="  Slow logins  ",
        description="",
        origin=ProblemOrigin.RECURRENCE,
        actor="system:problem-analysis",
        now=NOW,
        impact=Impact.HIGH,
        urgency=Urgency.HIGH,
        incident_ids=[uuid.UUID(int=1), uuid.UUID(int=1), uuid.UUID(int=2)],
    )
    assert problem.title == "Slow logins"
    assert problem.priority == 1
    assert problem.incident_ids == [uuid.UUID(int=1), uuid.UUID(int=2)]
    assert problem.pending_events == [ProblemOpened(problem.id, "system:problem-analysis")]
    with pytest.raises(RuleViolation):
        Problem.open(
            problem_id=uuid.uuid4(),
            number="",
            title=" ",
            description="",
            origin=ProblemOrigin.MANUAL,
            actor="pam",
            now=NOW,
        )


def test_publishing_a_known_error_needs_root_cause_and_workaround_on_the_record_or_given() -> None:
    problem = in_status(S.UNDER_INVESTIGATION)
    with pytest.raises(RuleViolation) as missing:
        problem.publish_known_error(root_cause="", workaround="", known_error_id=uuid.uuid4(), actor="pam", now=NOW)
    assert [e["field"] for e in missing.value.extensions["errors"]] == ["root_cause", "workaround"]
    assert problem.status is S.UNDER_INVESTIGATION
    problem.update({"root_cause": "disk full", "workaround": "purge /var/tmp"}, "pam", NOW)
    ke = uuid.uuid4()
    problem.publish_known_error(root_cause="", workaround="", known_error_id=ke, actor="pam", now=NOW)
    assert (problem.status, problem.known_error_id, problem.workaround) == (S.KNOWN_ERROR, ke, "purge /var/tmp")


def test_a_known_error_keeps_its_root_cause_and_workaround() -> None:
    problem = in_status(S.KNOWN_ERROR)
    with pytest.raises(RuleViolation):
        problem.update({"workaround": " "}, "pam", NOW)
    assert problem.workaround == "restart relay"


def test_editing_records_old_and_new_recomputes_priority_and_refuses_unknown_fields() -> None:
    problem = opened()
    problem.update({"impact": Impact.HIGH, "urgency": Urgency.HIGH, "category": "email"}, "pam", NOW, "worse")
    [event] = problem.pending_events
    assert isinstance(event, ProblemChanged)
    assert event.changes["priority"] == (3, 1)
    assert event.changes["impact"] == (2, 1)
    assert event.changes["category"] == (None, "email")
    assert event.reason == "worse"
    with pytest.raises(RuleViolation):
        problem.update({"status": "closed"}, "pam", NOW)
    with pytest.raises(RuleViolation):
        problem.update({"title": ""}, "pam", NOW)


def test_an_edit_that_changes_nothing_records_nothing() -> None:
    problem = opened()
    problem.update({"title": problem.title}, "pam", NOW)
    assert problem.version == 1
    assert problem.pending_events == []


def test_linking_incidents_adds_only_new_ones() -> None:
    problem = opened()
    a, b = uuid.uuid4(), uuid.uuid4()
    assert problem.link_incidents([a, b, a], "pam", NOW) == [a, b]
    assert problem.link_incidents([a], "pam", NOW) == []
    assert problem.incident_ids == [a, b]
    [event] = problem.pending_events
    assert isinstance(event, ProblemChanged)
    assert event.added_incident_ids == (a, b)


def test_resolve_reopen_cancel_need_their_reasons() -> None:
    investigating = in_status(S.UNDER_INVESTIGATION)
    with pytest.raises(RuleViolation):
        investigating.resolve(resolution=" ", actor="pam", now=NOW)
    with pytest.raises(RuleViolation):
        investigating.cancel(" ", "pam", NOW)
    resolved = in_status(S.RESOLVED)
    assert resolved.resolved_at == NOW
    with pytest.raises(RuleViolation):
        resolved.reopen("", "pam", NOW)
    resolved.reopen("recurred", "pam", NOW + timedelta(days=1))
    assert resolved.resolved_at is None
    assert resolved.status is S.UNDER_INVESTIGATION


def test_investigating_names_an_owner() -> None:
    problem = opened()
    problem.investigate("pam", NOW)
    assert problem.owner == "pam"
    other = opened()
    other.investigate("pam", NOW, owner="olga")
    assert other.owner == "olga"


def test_a_known_error_copies_its_problem_and_one_entered_directly_must_say_what_it_matches() -> None:
    problem = in_status(S.KNOWN_ERROR)
    record = KnownError.of_problem(problem, known_error_id=uuid.uuid4(), number="KE0000001", now=NOW)
    assert (record.problem_id, record.workaround, record.status) == (
        problem.id,
        "restart relay",
        KnownErrorStatus.ACTIVE,
    )
    require_match_scope(uuid.uuid4(), None, None)
    require_match_scope(None, uuid.uuid4(), "email")
    for scope in [(None, None, None), (None, uuid.uuid4(), None), (None, None, "email")]:
        with pytest.raises(RuleViolation):
            require_match_scope(*scope)
