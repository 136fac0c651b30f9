"""The incident lifecycle: every allowed action, the refused ones (with what is allowed), and
what each records (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.incident.domain.incident_lifecycle import (
    TRANSITIONS,
    Action,
    Channel,
    EscalationKind,
    HoldReason,
    IncidentChanged,
    IncidentStatus,
    PostIncidentReview,
)
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import Impact, Urgency
from shared.errors import Conflict, InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
S = IncidentStatus


def opened() -> Incident:
    incident = Incident.open(
        incident_id=uuid.uuid4(),
        number="INC0000001",
        title="VPN down",
        description="",
        caller="bob",
        channel=Channel.PHONE,
        impact=Impact.HIGH,
        urgency=Urgency.HIGH,
        ci_id=None,
        now=NOW,
    )
    incident.pending_events.clear()
    return incident


def in_status(status: IncidentStatus) -> Incident:
    incident = opened()
    steps = {
        S.NEW: [],
        S.ASSIGNED: [lambda i: i.assign(group="network", assignee=None, actor="a", now=NOW)],
        S.IN_PROGRESS: [
            lambda i: i.assign(group="network", assignee="ann", actor="a", now=NOW),
            lambda i: i.start("ann", NOW),
        ],
        S.ON_HOLD: [
            lambda i: i.assign(group="network", assignee="ann", actor="a", now=NOW),
            lambda i: i.start("ann", NOW),
            lambda i: i.hold(HoldReason.AWAITING_SUPPLIER, "ann", NOW),
        ],
        S.RESOLVED: [lambda i: i.resolve(code="fixed", notes="", actor="ann", now=NOW)],
        S.CLOSED: [lambda i: i.resolve(code="fixed", notes="", actor="ann", now=NOW), lambda i: i.close("bob", NOW)],
        S.CANCELLED: [lambda i: i.cancel("duplicate", "ann", NOW)],
    }[status]
    for step in steps:
        step(incident)
    incident.pending_events.clear()
    return incident


def perform(incident: Incident, action: Action) -> None:
    {
        Action.ASSIGN: lambda: incident.assign(group="desk", assignee=None, actor="a", now=NOW),
        Action.START: lambda: incident.start("a", NOW),
        Action.HOLD: lambda: incident.hold(HoldReason.AWAITING_CALLER, "a", NOW),
        Action.RESUME: lambda: incident.resume("a", NOW),
        Action.RESOLVE: lambda: incident.resolve(code="fixed", notes="", actor="a", now=NOW),
        Action.CLOSE: lambda: incident.close("a", NOW),
        Action.REOPEN: lambda: incident.reopen("still broken", "a", NOW),
        Action.CANCEL: lambda: incident.cancel("duplicate", "a", NOW),
        Action.UPDATE: lambda: incident.update({"title": "VPN down for all"}, actor="a", now=NOW),
        Action.OVERRIDE_PRIORITY: lambda: incident.override_priority(4, reason="one user", actor="a", now=NOW),
        Action.ESCALATE: lambda: incident.escalate(
            EscalationKind.HIERARCHICAL, actor="a", now=NOW, notify=["duty-manager"]
        ),
        Action.DECLARE_MAJOR: lambda: incident.declare_major(manager="mia", actor="a", now=NOW),
        Action.REVIEW: lambda: incident.record_review(
            PostIncidentReview("s", "r", "l", ("a",), recorded_by="mia", recorded_at=NOW)
        ),
    }[action]()


GUARDED = {Action.REVIEW}
"""Allowed by the table only on a major incident (tests in test_record.py)."""


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(Action))
def test_each_action_is_allowed_exactly_where_the_table_says(status: IncidentStatus, action: Action) -> None:
    incident = in_status(status)
    allowed = TRANSITIONS[status]
    if action in allowed and action not in GUARDED:
        perform(incident, action)
        assert incident.status is allowed[action]
        [event] = incident.pending_events
        assert isinstance(event, IncidentChanged)
        assert (event.previous_status, event.status) == (status, allowed[action])
    elif action in allowed:
        with pytest.raises(Conflict, match="not a major incident"):
            perform(incident, action)
        assert incident.pending_events == []
    else:
        with pytest.raises(InvalidTransition) as refused:
            perform(incident, action)
        assert refused.value.extensions["allowed_actions"] == sorted(a.value for a in allowed if a not in GUARDED)
        assert incident.status is status


def test_resolving_records_the_resolution_and_the_first_response() -> None:
    incident = in_status(S.ASSIGNED)
    later = NOW + timedelta(hours=2)
    incident.resolve(code="workaround", notes="restarted the tunnel", actor="ann", now=later)
    assert incident.resolved_at == later
    assert incident.first_response_at == later  # resolved without a separate start
    [event] = incident.pending_events
    assert event.changes["status"] == ("assigned", "resolved")  # type: ignore[union-attr]
    assert event.changes["resolution_code"] == (None, "workaround")  # type: ignore[union-attr]


def test_reopening_is_refused_after_the_window_and_needs_a_reason() -> None:
    incident = in_status(S.RESOLVED)
    with pytest.raises(RuleViolation):
        incident.reopen(" ", "bob", NOW)
    with pytest.raises(InvalidTransition):
        incident.reopen("again", "bob", NOW + timedelta(days=8))
    incident.reopen("again", "bob", NOW + timedelta(days=6))
    assert incident.status is S.IN_PROGRESS
    assert incident.resolved_at is None


def test_a_reassignment_keeps_the_status_and_records_the_old_group() -> None:
    incident = in_status(S.IN_PROGRESS)
    incident.assign(group="database", assignee=None, actor="lead", now=NOW, reason="it is the DB")
    assert incident.status is S.IN_PROGRESS
    [event] = incident.pending_events
    assert event.changes == {"assignment_group": ("network", "database"), "assignee": ("ann", None)}  # type: ignore[union-attr]
    assert event.reason == "it is the DB"  # type: ignore[union-attr]
