"""The service request lifecycle: every allowed action, every refused one (409 with what is
allowed), the item deciding whether approval comes first, and separation of duties (no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.incident.domain.catalogue import CatalogueItem
from services.incident.domain.requests import TRANSITIONS, RequestAction, RequestChanged, RequestStatus, ServiceRequest
from shared.errors import Forbidden, InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
S, A = RequestStatus, RequestAction
APPROVER = ("carl", ("request_approver",))


def item(needs_approval: bool, **changes: object) -> CatalogueItem:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "name": "New laptop" if needs_approval else "Password reset",
        "description": "",
        "service_id": uuid.uuid4(),
        "needs_approval": needs_approval,
        "approver_role": "request_approver" if needs_approval else None,
        "fulfilment_group": "workplace",
    }
    values.update(changes)
    return CatalogueItem(**values)  # type: ignore[arg-type]


def submitted(needs_approval: bool) -> ServiceRequest:
    request = ServiceRequest.submit(
        request_id=uuid.uuid4(),
        item=item(needs_approval),
        title="",
        description="",
        requester="bob",
        requested_for=None,
        priority=None,
        now=NOW,
    )
    request.pending_events.clear()
    return request


DO: dict[RequestAction, Callable[[ServiceRequest], None]] = {
    A.APPROVE: lambda r: r.approve(*APPROVER, NOW),
    A.REJECT: lambda r: r.reject(*APPROVER, NOW, "no budget"),
    A.START: lambda r: r.start("ann", NOW),
    A.FULFIL: lambda r: r.fulfil("ann", NOW, "delivered"),
    A.CLOSE: lambda r: r.close("bob", NOW),
    A.CANCEL: lambda r: r.cancel("bob", NOW, "not needed"),
}
PATHS: dict[tuple[RequestStatus, bool], list[RequestAction]] = {
    (S.SUBMITTED, True): [],
    (S.SUBMITTED, False): [],
    (S.APPROVED, True): [A.APPROVE],
    (S.REJECTED, True): [A.REJECT],
    (S.IN_FULFILMENT, True): [A.APPROVE, A.START],
    (S.IN_FULFILMENT, False): [A.START],
    (S.FULFILLED, False): [A.START, A.FULFIL],
    (S.CLOSED, False): [A.START, A.FULFIL, A.CLOSE],
    (S.CANCELLED, False): [A.CANCEL],
}


def in_status(status: RequestStatus, needs_approval: bool) -> ServiceRequest:
    request = submitted(needs_approval)
    for action in PATHS[(status, needs_approval)]:
        DO[action](request)
    request.pending_events.clear()
    assert request.status is status
    return request


def allowed(status: RequestStatus, needs_approval: bool) -> dict[RequestAction, RequestStatus]:
    actions = dict(TRANSITIONS[status])
    if status is S.SUBMITTED:
        for action in (A.START,) if needs_approval else (A.APPROVE, A.REJECT):
            del actions[action]
    return actions


CASES = [(status, approval) for status, approval in PATHS]


@pytest.mark.parametrize(("status", "needs_approval"), CASES)
def test_every_allowed_action_leads_where_the_table_says_and_is_recorded(
    status: RequestStatus, needs_approval: bool
) -> None:
    for action, target in allowed(status, needs_approval).items():
        request = in_status(status, needs_approval)
        DO[action](request)
        assert request.status is target
        (event,) = request.pending_events
        assert isinstance(event, RequestChanged)
        assert (event.action, event.previous_status, event.status) == (action, status, target)
        assert request.version == 1 + len(PATHS[(status, needs_approval)]) + 1


@pytest.mark.parametrize(("status", "needs_approval"), CASES)
def test_every_other_action_is_refused_naming_the_allowed_ones(status: RequestStatus, needs_approval: bool) -> None:
    permitted = allowed(status, needs_approval)
    for action in set(RequestAction) - set(permitted):
        request = in_status(status, needs_approval)
        with pytest.raises(InvalidTransition) as refused:
            DO[action](request)
        assert refused.value.extensions["allowed_actions"] == sorted(a.value for a in permitted)
        assert request.allowed_actions() == sorted(a.value for a in permitted)
        assert (request.status, request.pending_events) == (status, [])


def test_an_item_that_needs_approval_cannot_skip_it_and_one_that_does_not_cannot_be_approved() -> None:
    assert submitted(True).allowed_actions() == ["approve", "cancel", "reject"]
    assert submitted(False).allowed_actions() == ["cancel", "start"]


def test_nobody_approves_or_rejects_their_own_request_or_one_made_for_them() -> None:
    request = submitted(True)
    with pytest.raises(Forbidden):
        request.approve("bob", ("request_approver",), NOW)
    with pytest.raises(Forbidden):
        request.reject("bob", ("admin",), NOW, "no")
    for_someone = ServiceRequest.submit(
        request_id=uuid.uuid4(),
        item=item(True),
        title="Laptop for Dora",
        description="",
        requester="bob",
        requested_for="dora",
        priority=None,
        now=NOW,
    )
    with pytest.raises(Forbidden):
        for_someone.approve("dora", ("request_approver",), NOW)
    assert request.status is S.SUBMITTED


def test_the_approver_holds_the_items_approver_role_or_is_an_admin() -> None:
    with pytest.raises(Forbidden):
        submitted(True).approve("eve", ("agent",), NOW)
    request = submitted(True)
    request.approve("root", ("admin",), NOW, "ok")
    assert (request.status, request.approver, request.decided_at) == (S.APPROVED, "root", NOW)


def test_a_refused_action_is_a_409_before_any_403() -> None:
    with pytest.raises(InvalidTransition):
        in_status(S.FULFILLED, False).approve("bob", (), NOW)


def test_rejecting_and_cancelling_need_a_reason() -> None:
    with pytest.raises(RuleViolation):
        submitted(True).reject(*APPROVER, NOW, " ")
    with pytest.raises(RuleViolation):
        submitted(True).cancel("bob", NOW, "")
    request = submitted(True)
    request.cancel("ann", NOW, "duplicate")
    assert request.status is S.CANCELLED


def test_submitting_takes_the_items_group_service_and_default_priority() -> None:
    laptop = item(True, default_priority=3)
    request = ServiceRequest.submit(
        request_id=uuid.uuid4(),
        item=laptop,
        title=" ",
        description="14 inch",
        requester="bob",
        requested_for=None,
        priority=None,
        now=NOW,
    )
    assert (request.title, request.priority, request.assignment_group) == ("New laptop", 3, "workplace")
    assert (request.service_id, request.requested_for, request.status) == (laptop.service_id, "bob", S.SUBMITTED)
    with pytest.raises(RuleViolation):
        ServiceRequest.submit(
            request_id=uuid.uuid4(),
            item=item(False, active=False),
            title="",
            description="",
            requester="bob",
            requested_for=None,
            priority=None,
            now=NOW,
        )


def test_fulfilment_records_who_works_it_and_when() -> None:
    request = in_status(S.IN_FULFILMENT, False)
    assert (request.assignee, request.fulfilment_started_at) == ("ann", NOW)
    request.fulfil("ann", NOW, "done")
    (event,) = request.pending_events
    assert isinstance(event, RequestChanged)
    assert event.changes["status"] == ("in_fulfilment", "fulfilled")
    assert event.changes["fulfilment_notes"] == ("", "done")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"name": " "}, ["name"]),
        ({"approver_role": None}, ["approver_role"]),
        ({"fulfilment_group": "", "default_priority": 9}, ["fulfilment_group", "default_priority"]),
    ],
)
def test_a_catalogue_item_names_what_it_needs(changes: dict[str, object], fields: list[str]) -> None:
    with pytest.raises(RuleViolation) as refused:
        item("approver_role" in changes, **changes)
    assert [e["field"] for e in refused.value.extensions["errors"]] == fields
