"""What each problem and service request action records, read back: actor, time, reason and the
fields it sets, the version and the event; and each refusal with its field or state (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.incident.domain.catalogue import CatalogueItem
from services.incident.domain.priority import Impact, Urgency
from services.incident.domain.problems import (
    Problem,
    ProblemAction,
    ProblemChanged,
    ProblemOrigin,
    ProblemStatus,
)
from services.incident.domain.requests import RequestAction, RequestChanged, RequestStatus, ServiceRequest
from shared.errors import Forbidden, InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
PID, RID = uuid.UUID(int=21), uuid.UUID(int=22)


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def fields_of(refused: pytest.ExceptionInfo[RuleViolation]) -> list[str]:
    assert isinstance(refused.value.detail, str) and refused.value.detail
    return [e["field"] for e in refused.value.extensions["errors"]]


# ---------------------------------------------------------------- problems


def problem(**overrides: Any) -> Problem:
    values: dict[str, Any] = {
        "problem_id": PID,
        "number": "PRB0000021",
        "title": "Relay drops mail",
        "description": "mails vanish",
        "origin": ProblemOrigin.MANUAL,
        "actor": "pam",
        "now": NOW,
    }
    values.update(overrides)
    made = Problem.open(**values)
    made.pending_events.clear()
    return made


def last(p: Problem) -> ProblemChanged:
    event = p.pending_events[-1]
    assert isinstance(event, ProblemChanged)
    return event


def test_opening_a_problem_keeps_every_field_given() -> None:
    ci, service = uuid.uuid4(), uuid.uuid4()
    made = problem(
        origin=ProblemOrigin.RECURRENCE,
        impact=Impact.LOW,
        urgency=Urgency.HIGH,
        ci_id=ci,
        service_id=service,
        category="email",
        owner="olga",
        recurrence_key="ci:x",
    )
    assert (made.id, made.number, made.title, made.description) == (
        PID,
        "PRB0000021",
        "Relay drops mail",
        "mails vanish",
    )
    assert (made.origin, made.impact, made.urgency, made.priority) == (
        ProblemOrigin.RECURRENCE,
        Impact.LOW,
        Urgency.HIGH,
        3,
    )
    assert (made.ci_id, made.service_id, made.category, made.owner) == (ci, service, "email", "olga")
    assert (made.recurrence_key, made.opened_at, made.updated_at, made.opened_by) == ("ci:x", NOW, NOW, "pam")
    assert (made.status, made.version, made.is_open) == (ProblemStatus.NEW, 1, True)


def test_a_problem_without_a_title_is_refused_naming_it() -> None:
    with pytest.raises(RuleViolation) as refused:
        problem(title="  ")
    assert fields_of(refused) == ["title"]


def test_each_problem_action_records_its_actor_time_and_reason() -> None:
    p = problem()
    incident = uuid.uuid4()
    change = uuid.uuid4()
    steps = [
        ("ann", "", lambda t: p.update({"owner": "olga"}, "ann", t)),
        ("ann", "same symptom", lambda t: p.link_incidents([incident], "ann", t, "same symptom")),
        ("olga", "", lambda t: p.investigate("olga", t)),
        ("olga", "the fix", lambda t: p.link_change(change, " CHG1 ", "olga", t, "the fix")),
        ("olga", "patched relay", lambda t: p.resolve(resolution=" patched relay ", actor="olga", now=t)),
        ("bob", "it came back", lambda t: p.reopen(" it came back ", "bob", t)),
        ("olga", "patched again", lambda t: p.resolve(resolution="patched again", actor="olga", now=t)),
        ("olga", "held a month", lambda t: p.close("olga", t, "held a month")),
    ]
    for minutes, (actor, reason, step) in enumerate(steps, start=1):
        step(at(minutes))
        event = last(p)
        assert (p.version, p.updated_at) == (1 + minutes, at(minutes))
        assert (event.problem_id, event.actor, event.reason) == (PID, actor, reason)
    assert (p.change_id, p.change_number, p.closed_at, p.resolution) == (change, "CHG1", at(8), "patched again")
    assert last(p).changes["closed_at"] == (None, at(8).isoformat())


def test_resolving_records_the_resolution_and_when_and_reopening_clears_when() -> None:
    p = problem()
    p.investigate("olga", NOW)
    p.resolve(resolution=" patched ", actor="olga", now=at(5))
    event = last(p)
    assert (p.resolution, p.resolved_at, p.is_open) == ("patched", at(5), False)
    assert event.changes == {
        "status": ("under_investigation", "resolved"),
        "resolution": ("", "patched"),
        "resolved_at": (None, at(5).isoformat()),
    }
    p.reopen("again", "bob", at(6))
    assert last(p).changes == {"status": ("resolved", "under_investigation"), "resolved_at": (at(5).isoformat(), None)}


def test_cancelling_records_the_trimmed_reason_and_when() -> None:
    p = problem()
    p.cancel("  duplicate of PRB1 ", "pam", at(3))
    event = last(p)
    assert (p.status, p.closed_at, event.reason, event.actor) == (
        ProblemStatus.CANCELLED,
        at(3),
        "duplicate of PRB1",
        "pam",
    )


@pytest.mark.parametrize(
    ("act", "field"),
    [
        (lambda p: p.resolve(resolution=" ", actor="pam", now=NOW), "resolution"),
        (lambda p: p.cancel(" ", "pam", NOW), "reason"),
        (lambda p: p.link_change(uuid.uuid4(), " ", "pam", NOW), "change_number"),
        (lambda p: p.update({"title": None}, "pam", NOW), "title"),
        (lambda p: p.update({"status": "x", "number": "y"}, "pam", NOW), "number"),
    ],
    ids=["resolution", "cancel-reason", "change-number", "title", "unknown-field"],
)
def test_a_refused_problem_action_names_the_field_and_changes_nothing(act: Any, field: str) -> None:
    p = problem()
    p.investigate("pam", NOW)
    p.pending_events.clear()
    with pytest.raises(RuleViolation) as refused:
        act(p)
    assert fields_of(refused) == [field]
    assert (p.status, p.version, p.pending_events) == (ProblemStatus.UNDER_INVESTIGATION, 2, [])


def test_a_reopen_needs_a_reason_naming_it() -> None:
    p = problem()
    p.investigate("pam", NOW)
    p.resolve(resolution="x", actor="pam", now=NOW)
    with pytest.raises(RuleViolation) as refused:
        p.reopen(" ", "pam", NOW)
    assert fields_of(refused) == ["reason"]


@pytest.mark.parametrize("name", ["root_cause", "workaround"])
@pytest.mark.parametrize("value", [None, "  "])
def test_a_known_error_cannot_lose_its_root_cause_or_workaround(name: str, value: str | None) -> None:
    p = problem()
    p.investigate("pam", NOW)
    p.publish_known_error(root_cause="queue", workaround="restart", known_error_id=uuid.uuid4(), actor="pam", now=NOW)
    with pytest.raises(RuleViolation) as refused:
        p.update({name: value}, "pam", NOW)
    assert fields_of(refused) == [name]
    p.update({name: "better"}, "pam", NOW)
    assert getattr(p, name) == "better"


def test_publishing_records_the_trimmed_cause_workaround_and_known_error() -> None:
    p = problem()
    p.investigate("pam", NOW)
    ke = uuid.uuid4()
    p.publish_known_error(root_cause=" queue ", workaround=" restart ", known_error_id=ke, actor="olga", now=at(9))
    event = last(p)
    assert (p.root_cause, p.workaround, p.known_error_id) == ("queue", "restart", ke)
    assert (event.actor, p.updated_at, event.action) == ("olga", at(9), ProblemAction.PUBLISH_KNOWN_ERROR)
    assert event.changes["known_error_id"] == (None, str(ke))


def test_publishing_outside_investigation_is_refused_before_the_fields_are_checked() -> None:
    p = problem()
    with pytest.raises(InvalidTransition) as refused:
        p.publish_known_error(root_cause="", workaround="", known_error_id=uuid.uuid4(), actor="pam", now=NOW)
    assert refused.value.extensions["state"] == "new"


@pytest.mark.parametrize(
    "act",
    [
        lambda p: p.resolve(resolution=" ", actor="pam", now=NOW),
        lambda p: p.reopen(" ", "pam", NOW),
        lambda p: p.cancel(" ", "pam", NOW),
        lambda p: p.link_incidents([], "pam", NOW),
    ],
    ids=["resolve", "reopen", "cancel", "link-nothing"],
)
def test_on_a_closed_problem_the_state_is_refused_before_the_reason(act: Any) -> None:
    p = problem()
    p.cancel("dup", "pam", NOW)
    with pytest.raises(InvalidTransition) as refused:
        act(p)
    assert refused.value.extensions == {"state": "cancelled", "allowed_actions": []}


def test_a_new_urgency_alone_or_impact_alone_recomputes_the_priority() -> None:
    p = problem()
    p.update({"urgency": Urgency.HIGH}, "pam", at(1))
    assert (p.priority, last(p).changes["priority"]) == (2, (3, 2))
    p.update({"impact": Impact.LOW}, "pam", at(2))
    assert (p.priority, last(p).changes["priority"]) == (3, (2, 3))
    p.update({"impact": Impact.MEDIUM, "urgency": Urgency.LOW}, "pam", at(3))  # 2 x 3 = 4
    assert p.priority == 4


def test_an_edit_that_keeps_the_priority_records_no_priority_change() -> None:
    p = problem(impact=Impact.HIGH, urgency=Urgency.LOW)  # priority 3
    p.update({"impact": Impact.LOW, "urgency": Urgency.HIGH}, "pam", NOW)  # still 3
    assert p.priority == 3 and "priority" not in last(p).changes
    p.update({"title": "Relay loses mail"}, "pam", NOW)
    assert last(p).changes == {"title": ("Relay drops mail", "Relay loses mail")}


def test_linked_incidents_are_recorded_as_their_ids_and_a_status_move_as_values() -> None:
    p = problem()
    a = uuid.uuid4()
    p.link_incidents([a], "pam", NOW)
    assert last(p).changes == {"incident_ids": ([], [str(a)])}
    p.investigate("pam", NOW)
    assert last(p).changes == {"status": ("new", "under_investigation"), "owner": (None, "pam")}


def test_investigating_keeps_the_owner_already_named() -> None:
    p = problem(owner="olga")
    p.investigate("pam", NOW)
    assert p.owner == "olga"
    assert last(p).changes == {"status": ("new", "under_investigation")}


# ---------------------------------------------------------------- service requests


def item(needs_approval: bool = True, **overrides: Any) -> CatalogueItem:
    values: dict[str, Any] = {
        "id": uuid.UUID(int=30),
        "name": "New laptop",
        "description": "",
        "service_id": uuid.UUID(int=31),
        "needs_approval": needs_approval,
        "approver_role": "request_approver" if needs_approval else None,
        "fulfilment_group": "workplace",
    }
    values.update(overrides)
    return CatalogueItem(**values)


def submit(needs_approval: bool = True, **overrides: Any) -> ServiceRequest:
    values: dict[str, Any] = {
        "request_id": RID,
        "item": item(needs_approval),
        "title": " Laptop for Dora ",
        "description": "14 inch",
        "requester": "bob",
        "requested_for": " dora ",
        "priority": None,
        "now": NOW,
    }
    values.update(overrides)
    made = ServiceRequest.submit(**values)
    made.pending_events.clear()
    return made


def last_change(r: ServiceRequest) -> RequestChanged:
    event = r.pending_events[-1]
    assert isinstance(event, RequestChanged)
    return event


def test_submitting_keeps_the_request_and_what_the_item_says() -> None:
    r = submit(priority=2)
    assert (r.id, r.number, r.title, r.description) == (RID, "", "Laptop for Dora", "14 inch")
    assert (r.catalogue_item_id, r.catalogue_item, r.service_id) == (uuid.UUID(int=30), "New laptop", uuid.UUID(int=31))
    assert (r.needs_approval, r.approver_role, r.assignment_group) == (True, "request_approver", "workplace")
    assert (r.requester, r.requested_for, r.priority) == ("bob", "dora", 2)
    assert (r.submitted_at, r.updated_at, r.version, r.status) == (NOW, NOW, 1, RequestStatus.SUBMITTED)


def test_submitting_records_one_event_naming_the_request() -> None:
    r = ServiceRequest.submit(
        request_id=RID,
        item=item(),
        title="",
        description="",
        requester="bob",
        requested_for=None,
        priority=None,
        now=NOW,
    )
    assert [e.request_id for e in r.pending_events] == [RID]


@pytest.mark.parametrize("priority", [1, 5])
def test_a_request_may_have_either_end_of_the_priority_range(priority: int) -> None:
    assert submit(priority=priority).priority == priority


@pytest.mark.parametrize("priority", [0, 6])
def test_a_request_priority_outside_the_range_is_refused(priority: int) -> None:
    with pytest.raises(RuleViolation) as refused:
        submit(priority=priority)
    assert fields_of(refused) == ["priority"]


def test_a_withdrawn_item_cannot_be_requested() -> None:
    with pytest.raises(RuleViolation) as refused:
        submit(item=item(active=False))
    assert fields_of(refused) == ["catalogue_item_id"]


def test_approving_records_the_approver_the_decision_time_and_the_reason() -> None:
    r = submit()
    r.approve("carl", ["request_approver"], at(5), "budget ok")
    event = last_change(r)
    assert (r.approver, r.decided_at, r.version, r.updated_at) == ("carl", at(5), 2, at(5))
    assert (event.request_id, event.actor, event.reason, event.action) == (
        RID,
        "carl",
        "budget ok",
        RequestAction.APPROVE,
    )
    assert event.changes == {
        "status": ("submitted", "approved"),
        "approver": (None, "carl"),
        "decided_at": (None, at(5).isoformat()),
    }


def test_an_approval_without_a_reason_records_none() -> None:
    r = submit()
    r.approve("carl", ["request_approver"], NOW)
    assert last_change(r).reason == ""


def test_rejecting_records_the_approver_the_decision_time_and_why() -> None:
    r = submit()
    with pytest.raises(RuleViolation) as refused:
        r.reject("carl", ["request_approver"], NOW, " ")
    assert fields_of(refused) == ["reason"]
    r.reject("carl", ["request_approver"], at(5), "no budget")
    event = last_change(r)
    assert (r.status, r.approver, r.decided_at, r.updated_at) == (RequestStatus.REJECTED, "carl", at(5), at(5))
    assert (event.actor, event.reason) == ("carl", "no budget")


def test_a_forbidden_approval_says_why() -> None:
    r = submit()
    for approver, roles in (("bob", ["admin"]), ("dora", ["admin"]), ("eve", ["agent"])):
        with pytest.raises(Forbidden) as refused:
            r.approve(approver, roles, NOW)
        assert isinstance(refused.value.detail, str) and refused.value.detail
    assert r.status is RequestStatus.SUBMITTED


def test_a_decision_on_a_request_already_decided_names_its_state() -> None:
    r = submit()
    r.approve("carl", ["request_approver"], NOW)
    with pytest.raises(InvalidTransition) as refused:
        r.reject("carl", ["request_approver"], NOW, "changed my mind")
    assert refused.value.extensions == {"state": "approved", "allowed_actions": ["cancel", "start"]}


def test_starting_records_the_assignee_or_the_actor_and_when() -> None:
    r = submit(needs_approval=False)
    r.start("ann", at(2), assignee="ben")
    event = last_change(r)
    assert (r.assignee, r.fulfilment_started_at, r.updated_at) == ("ben", at(2), at(2))
    assert (event.actor, event.reason) == ("ann", "")
    other = submit(needs_approval=False)
    other.start("ann", at(2))
    assert other.assignee == "ann"


def test_fulfilling_and_closing_record_who_when_and_the_notes() -> None:
    r = submit(needs_approval=False)
    r.start("ann", NOW)
    r.fulfil("ann", at(10), "delivered to desk 4")
    event = last_change(r)
    assert (r.fulfilled_at, r.fulfilment_notes, r.updated_at) == (at(10), "delivered to desk 4", at(10))
    assert (event.actor, event.reason) == ("ann", "delivered to desk 4")
    r.close("bob", at(20))
    event = last_change(r)
    assert (r.closed_at, r.updated_at, r.version, event.actor) == (at(20), at(20), 4, "bob")
    assert event.changes["closed_at"] == (None, at(20).isoformat())


def test_fulfilling_without_notes_records_no_reason() -> None:
    r = submit(needs_approval=False)
    r.start("ann", NOW)
    r.fulfil("ann", NOW)
    assert (r.fulfilment_notes, last_change(r).reason) == ("", "")


def test_cancelling_records_who_when_and_why() -> None:
    r = submit()
    with pytest.raises(RuleViolation) as refused:
        r.cancel("bob", NOW, " ")
    assert fields_of(refused) == ["reason"]
    r.cancel("root", at(4), "not needed")
    event = last_change(r)
    assert (r.status, r.updated_at, event.actor, event.reason) == (RequestStatus.CANCELLED, at(4), "root", "not needed")


def test_a_refused_request_action_names_the_state() -> None:
    r = submit(needs_approval=False)
    with pytest.raises(InvalidTransition) as refused:
        r.fulfil("ann", NOW)
    assert refused.value.extensions == {"state": "submitted", "allowed_actions": ["cancel", "start"]}


def test_problem_actions_done_without_a_reason_record_none() -> None:
    p = problem()
    p.link_incidents([uuid.uuid4()], "pam", NOW)
    p.link_change(uuid.uuid4(), "CHG1", "pam", NOW)
    p.investigate("pam", NOW)
    p.resolve(resolution="patched", actor="pam", now=NOW)
    p.close("pam", NOW)
    assert [e.reason for e in p.pending_events if isinstance(e, ProblemChanged)] == ["", "", "", "patched", ""]


def test_cancelling_a_problem_is_the_change_of_its_time() -> None:
    p = problem()
    p.cancel("dup", "pam", at(7))
    assert (p.updated_at, p.version) == (at(7), 2)
