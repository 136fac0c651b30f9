"""The complaint lifecycle (ISO/IEC 20000-1 7.1): every allowed action, every refused one with the
actions allowed instead, what each records, the acknowledge and respond targets, and escalation to
the customer's relationship manager (no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from services.incident.domain.complaints import (
    EDITABLE_FIELDS,
    TRANSITIONS,
    Complaint,
    ComplaintAction,
    ComplaintChanged,
    ComplaintChannel,
    ComplaintLink,
    ComplaintLinkKind,
    ComplaintReceived,
    ComplaintStatus,
    ComplaintTargets,
    breached,
)
from shared.errors import InvalidTransition, RuleViolation

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
LATER = NOW + timedelta(hours=3)
TARGETS = ComplaintTargets(acknowledge=timedelta(hours=24), respond=timedelta(days=5))
S, A = ComplaintStatus, ComplaintAction
SERVICE = uuid.uuid4()


def received(**changes: object) -> Complaint:
    values: dict[str, object] = {
        "complaint_id": uuid.uuid4(),
        "title": "Nobody called me back",
        "description": "",
        "complainant": "alice",
        "received_via": ComplaintChannel.PHONE,
        "actor": "ann",
        "now": NOW,
        "targets": TARGETS,
        "relationship_manager": "rita",
        **changes,
    }
    complaint = Complaint.receive(**values)  # type: ignore[arg-type]
    complaint.pending_events.clear()
    return complaint


def _ack(c: Complaint) -> None:
    c.acknowledge("ann", NOW)


def _investigate(c: Complaint) -> None:
    c.investigate("ann", NOW)


def _act(c: Complaint) -> None:
    c.take_action("called back, apologised", "ann", NOW)


def _resolve(c: Complaint) -> None:
    c.resolve("we now call back within a day", "ann", LATER)


# How to reach each status from received.
PATHS: dict[ComplaintStatus, list[Callable[[Complaint], None]]] = {
    S.RECEIVED: [],
    S.ACKNOWLEDGED: [_ack],
    S.UNDER_INVESTIGATION: [_ack, _investigate],
    S.ACTION_TAKEN: [_ack, _investigate, _act],
    S.RESOLVED_PENDING_CONFIRMATION: [_ack, _investigate, _act, _resolve],
    S.CLOSED: [_ack, _investigate, _act, _resolve, lambda c: c.confirm("alice", NOW)],
    S.ESCALATED: [_ack, lambda c: c.escalate("not moving", "ann", NOW)],
    S.REOPENED: [_ack, _investigate, _act, _resolve, lambda c: c.reopen("still no call", "alice", NOW)],
}


def in_status(status: ComplaintStatus) -> Complaint:
    complaint = received()
    for step in PATHS[status]:
        step(complaint)
    assert complaint.status is status
    complaint.pending_events.clear()
    return complaint


# Each action, done with valid arguments by ACTOR at AT (later than every step of PATHS).
ACTOR, AT = "zed", NOW + timedelta(days=2)
DO: dict[ComplaintAction, Callable[[Complaint], None]] = {
    A.UPDATE: lambda c: c.update({"root_cause": "a missed queue"}, ACTOR, AT),
    A.LINK: lambda c: c.link([ComplaintLink(ComplaintLinkKind.SUPPLIER, uuid.uuid4())], ACTOR, AT),
    A.ACKNOWLEDGE: lambda c: c.acknowledge(ACTOR, AT),
    A.INVESTIGATE: lambda c: c.investigate(ACTOR, AT),
    A.TAKE_ACTION: lambda c: c.take_action("called back, apologised", ACTOR, AT),
    A.RESOLVE: lambda c: c.resolve("we now call back within a day", ACTOR, AT),
    A.CONFIRM: lambda c: c.confirm(ACTOR, AT),
    A.CLOSE: lambda c: c.close("no answer in ten days", ACTOR, AT),
    A.ESCALATE: lambda c: c.escalate("not moving", ACTOR, AT),
    A.REOPEN: lambda c: c.reopen("still no call", ACTOR, AT),
}
REASONS = {A.CLOSE: "no answer in ten days", A.ESCALATE: "not moving", A.REOPEN: "still no call"}
"""The reason each action records (none for the others)."""
# The instants an action sets to when it happened.
STAMPS = {
    A.ACKNOWLEDGE: ("acknowledged_at",),
    A.CONFIRM: ("closed_at",),
    A.CLOSE: ("closed_at",),
    A.ESCALATE: ("escalated_at",),
}

ALLOWED = [(status, action) for status, actions in TRANSITIONS.items() for action in actions]
REFUSED = [(status, action) for status in S for action in A if action not in TRANSITIONS[status]]


def test_the_table_covers_every_status_and_the_paths_reach_them() -> None:
    assert set(TRANSITIONS) == set(S)
    assert set(PATHS) == set(S)
    assert set(DO) == set(A)


def test_the_lifecycle_is_the_one_the_issue_names() -> None:
    """received -> acknowledged -> under investigation -> action taken -> resolved pending
    confirmation -> closed, plus escalated and reopened; closed is left only by reopening."""
    main = [S.RECEIVED, S.ACKNOWLEDGED, S.UNDER_INVESTIGATION, S.ACTION_TAKEN, S.RESOLVED_PENDING_CONFIRMATION]
    for here, there in zip(main, [*main[1:], S.CLOSED], strict=True):
        assert there in TRANSITIONS[here].values(), f"{here} does not lead to {there}"
    assert TRANSITIONS[S.CLOSED] == {A.REOPEN: S.REOPENED}
    escalating = {s for s, actions in TRANSITIONS.items() if A.ESCALATE in actions}
    assert escalating == {
        S.ACKNOWLEDGED,
        S.UNDER_INVESTIGATION,
        S.ACTION_TAKEN,
        S.RESOLVED_PENDING_CONFIRMATION,
        S.REOPENED,
    }
    assert {s for s, actions in TRANSITIONS.items() if A.REOPEN in actions} == {
        S.RESOLVED_PENDING_CONFIRMATION,
        S.CLOSED,
    }
    assert TRANSITIONS[S.RESOLVED_PENDING_CONFIRMATION][A.CONFIRM] is S.CLOSED
    assert TRANSITIONS[S.RESOLVED_PENDING_CONFIRMATION][A.CLOSE] is S.CLOSED
    assert A.UPDATE not in TRANSITIONS[S.RESOLVED_PENDING_CONFIRMATION]
    assert all(TRANSITIONS[s].get(A.UPDATE, None) is None for s in S)


@pytest.mark.parametrize(("status", "action"), ALLOWED, ids=[f"{s}-{a}" for s, a in ALLOWED])
def test_each_allowed_action_leads_where_the_table_says_and_records_one_event(
    status: ComplaintStatus, action: ComplaintAction
) -> None:
    complaint = in_status(status)
    version = complaint.version
    DO[action](complaint)
    assert complaint.status is (TRANSITIONS[status][action] or status)
    assert complaint.version == version + 1
    [event] = complaint.pending_events
    assert isinstance(event, ComplaintChanged)
    assert (event.action, event.previous_status, event.status) == (action, status, complaint.status)
    assert (event.complaint_id, event.actor, event.reason) == (complaint.id, ACTOR, REASONS.get(action, ""))
    assert complaint.updated_at == AT
    assert all(getattr(complaint, stamp) == AT for stamp in STAMPS.get(action, ()))
    assert complaint.allowed_actions() == sorted(a.value for a in TRANSITIONS[complaint.status])


@pytest.mark.parametrize(("status", "action"), REFUSED, ids=[f"{s}-{a}" for s, a in REFUSED])
def test_each_refused_action_is_a_conflict_naming_the_allowed_ones(
    status: ComplaintStatus, action: ComplaintAction
) -> None:
    complaint = in_status(status)
    before = (complaint.status, complaint.version)
    with pytest.raises(InvalidTransition) as refused:
        DO[action](complaint)
    assert refused.value.extensions["state"] == status.value
    assert refused.value.extensions["allowed_actions"] == sorted(a.value for a in TRANSITIONS[status])
    assert str(refused.value).startswith(f"'{action.value}' is not allowed while the record is '{status.value}'")
    assert (complaint.status, complaint.version) == before
    assert complaint.pending_events == []


def test_receiving_sets_both_due_times_and_records_the_receipt() -> None:
    complaint = Complaint.receive(
        complaint_id=uuid.uuid4(),
        title="  Rude reply  ",
        description="see the mail",
        complainant=" alice ",
        received_via=ComplaintChannel.EMAIL,
        actor="ann",
        now=NOW,
        targets=TARGETS,
        category="conduct",
        service_id=SERVICE,
    )
    assert (complaint.title, complaint.complainant, complaint.recorded_by) == ("Rude reply", "alice", "ann")
    assert (complaint.description, complaint.received_via, complaint.category) == (
        "see the mail",
        ComplaintChannel.EMAIL,
        "conduct",
    )
    assert complaint.service_id == SERVICE
    assert (complaint.status, complaint.version, complaint.number) == (S.RECEIVED, 1, "")
    assert complaint.acknowledge_due_at == NOW + timedelta(hours=24)
    assert complaint.respond_due_at == NOW + timedelta(days=5)
    assert (complaint.received_at, complaint.updated_at) == (NOW, NOW)
    assert (complaint.escalation_level, complaint.escalated_to, complaint.relationship_manager) == (0, None, None)
    assert complaint.pending_events == [ComplaintReceived(complaint.id, "ann")]


def test_a_complaint_needs_a_title_and_a_complainant() -> None:
    with pytest.raises(RuleViolation) as missing:
        received(title=" ", complainant="")
    assert missing.value.extensions["errors"] == [
        {"field": "title", "reason": "a complaint needs a title"},
        {"field": "complainant", "reason": "a complaint needs a complainant"},
    ]
    with pytest.raises(RuleViolation) as missing:
        received(complainant=" ")
    assert [e["field"] for e in missing.value.extensions["errors"]] == ["complainant"]


def test_targets_are_positive_and_respond_is_not_before_acknowledge() -> None:
    hour = timedelta(hours=1)
    assert ComplaintTargets(hour, hour).respond == hour
    for acknowledge, respond in ((timedelta(0), hour), (hour, timedelta(0)), (-hour, hour), (hour, -hour)):
        with pytest.raises(ValueError, match=r"^complaint targets are positive durations$"):
            ComplaintTargets(acknowledge, respond)
    with pytest.raises(ValueError, match=r"^the respond target cannot be shorter than the acknowledge target$"):
        ComplaintTargets(2 * hour, hour)


def test_a_target_is_breached_when_passed_unmet_or_met_late_never_when_met_on_time() -> None:
    due = NOW
    assert breached(due, None, due) is False
    assert breached(due, None, due + timedelta(seconds=1)) is True
    assert breached(due, due, due + timedelta(days=9)) is False
    assert breached(due, due + timedelta(seconds=1), due) is True
    assert breached(due, due - timedelta(hours=1), due + timedelta(days=9)) is False


def test_acknowledging_meets_the_acknowledge_target_and_resolving_the_respond_target() -> None:
    complaint = received()
    ack_due, respond_due = complaint.acknowledge_due_at, complaint.respond_due_at
    assert not complaint.acknowledge_breached(ack_due)
    assert complaint.acknowledge_breached(ack_due + timedelta(seconds=1))
    complaint.acknowledge("ann", LATER)
    assert (complaint.acknowledged_at, complaint.owner) == (LATER, "ann")
    assert not complaint.acknowledge_breached(ack_due + timedelta(days=30))
    assert complaint.respond_breached(respond_due + timedelta(seconds=1))
    assert not complaint.respond_breached(respond_due)
    _investigate(complaint)
    _act(complaint)
    complaint.resolve(" we call back within a day ", "ann", respond_due)
    assert (complaint.responded_at, complaint.resolution) == (respond_due, "we call back within a day")
    assert not complaint.respond_breached(respond_due + timedelta(days=30))


def test_a_late_acknowledgement_stays_breached() -> None:
    complaint = received()
    complaint.acknowledge("ann", complaint.acknowledge_due_at + timedelta(minutes=1), owner="otto")
    assert complaint.owner == "otto"
    assert complaint.acknowledge_breached(complaint.acknowledge_due_at + timedelta(minutes=1))


def test_the_first_response_counts_for_the_target_even_after_reopening() -> None:
    complaint = in_status(S.RESOLVED_PENDING_CONFIRMATION)
    first = complaint.responded_at
    assert first == LATER
    complaint.reopen("still no call", "alice", NOW)
    complaint.investigate("ann", NOW)
    complaint.take_action("called twice", "ann", NOW)
    complaint.resolve("called twice", "ann", NOW + timedelta(days=9))
    assert complaint.responded_at == first


def test_acknowledging_keeps_an_owner_already_named() -> None:
    complaint = received()
    complaint.update({"owner": "otto"}, "ann", NOW)
    complaint.acknowledge("ann", NOW)
    assert complaint.owner == "otto"


def test_escalating_goes_to_the_relationship_manager_on_record_or_named_and_counts_levels() -> None:
    complaint = in_status(S.ACKNOWLEDGED)
    complaint.escalate(" no progress ", "ann", LATER)
    assert (complaint.status, complaint.escalated_to, complaint.escalated_at) == (S.ESCALATED, "rita", LATER)
    assert complaint.escalation_level == 1
    [event] = complaint.pending_events
    assert isinstance(event, ComplaintChanged)
    assert event.reason == "no progress"
    assert event.changes["escalated_to"] == (None, "rita")
    assert event.changes["escalation_level"] == (0, 1)
    complaint.resolve("refund agreed", "rita", LATER)
    complaint.reopen("refund never came", "alice", LATER)
    complaint.escalate("second time", "ann", LATER, relationship_manager=" roger ")
    assert (complaint.escalated_to, complaint.relationship_manager, complaint.escalation_level) == (
        "roger",
        "roger",
        2,
    )


def test_escalating_needs_a_reason_and_a_relationship_manager() -> None:
    complaint = received(relationship_manager=None)
    complaint.acknowledge("ann", NOW)
    with pytest.raises(RuleViolation) as missing:
        complaint.escalate(" ", "ann", NOW, relationship_manager=" ")
    assert missing.value.extensions["errors"] == [
        {"field": "reason", "reason": "say why the complaint is escalated"},
        {"field": "relationship_manager", "reason": "name the customer's relationship manager to escalate to"},
    ]
    with pytest.raises(RuleViolation) as missing:
        complaint.escalate("slow", "ann", NOW)
    assert [e["field"] for e in missing.value.extensions["errors"]] == ["relationship_manager"]
    with pytest.raises(RuleViolation) as missing:
        in_status(S.ACKNOWLEDGED).escalate("", "ann", NOW)
    assert [e["field"] for e in missing.value.extensions["errors"]] == ["reason"]
    assert (complaint.status, complaint.escalation_level) == (S.ACKNOWLEDGED, 0)


def test_a_refused_escalation_says_conflict_before_missing_fields() -> None:
    with pytest.raises(InvalidTransition):
        received(relationship_manager=None).escalate("", "ann", NOW)


@pytest.mark.parametrize(
    ("status", "apply", "field", "says"),
    [
        (S.UNDER_INVESTIGATION, lambda c: c.take_action(" ", "ann", NOW), "actions_taken", "say what action was taken"),
        (S.ACTION_TAKEN, lambda c: c.resolve(" ", "ann", NOW), "resolution", "say what the complainant is told"),
        (
            S.RESOLVED_PENDING_CONFIRMATION,
            lambda c: c.close(" ", "ann", NOW),
            "reason",
            "say why the complaint is closed unconfirmed",
        ),
        (
            S.RESOLVED_PENDING_CONFIRMATION,
            lambda c: c.reopen(" ", "alice", NOW),
            "reason",
            "say why the complaint is reopened",
        ),
        (S.RECEIVED, lambda c: c.update({"title": " "}, "ann", NOW), "title", "a complaint needs a title"),
        (S.RECEIVED, lambda c: c.update({"title": None}, "ann", NOW), "title", "a complaint needs a title"),
        (
            S.RECEIVED,
            lambda c: c.update({"status": "closed", "number": "x", "owner": "o"}, "ann", NOW),
            "number",
            "these fields cannot be edited: number, status",
        ),
    ],
)
def test_what_an_action_needs_is_a_rule_naming_the_field(
    status: ComplaintStatus, apply: Callable[[Complaint], None], field: str, says: str
) -> None:
    complaint = in_status(status)
    with pytest.raises(RuleViolation) as refused:
        apply(complaint)
    assert refused.value.extensions["errors"] == [{"field": field, "reason": says}]
    assert (complaint.status, complaint.version, complaint.pending_events) == (status, 1 + len(PATHS[status]), [])


@pytest.mark.parametrize(
    ("status", "apply"),
    [
        (S.RECEIVED, lambda c: c.take_action("", "ann", NOW)),
        (S.RECEIVED, lambda c: c.resolve("", "ann", NOW)),
        (S.RECEIVED, lambda c: c.close("", "ann", NOW)),
        (S.RECEIVED, lambda c: c.reopen("", "ann", NOW)),
        (S.RESOLVED_PENDING_CONFIRMATION, lambda c: c.update({"title": ""}, "ann", NOW)),
    ],
)
def test_a_refused_action_is_a_conflict_even_with_bad_arguments(
    status: ComplaintStatus, apply: Callable[[Complaint], None]
) -> None:
    with pytest.raises(InvalidTransition):
        apply(in_status(status))


def test_confirming_closes_formally_with_the_complainants_confirmation() -> None:
    complaint = in_status(S.RESOLVED_PENDING_CONFIRMATION)
    complaint.confirm("alice", LATER)
    assert (complaint.closed_at, complaint.closure_confirmed_by_customer) == (LATER, True)
    assert complaint.closure_reason == "confirmed by the complainant"
    complaint.reopen("it happened again", "alice", LATER)
    assert (complaint.closed_at, complaint.closure_reason, complaint.closure_confirmed_by_customer) == (None, "", False)
    [*_, event] = complaint.pending_events
    assert isinstance(event, ComplaintChanged)
    assert event.reason == "it happened again"
    assert event.changes["closure_confirmed_by_customer"] == (True, False)


def test_confirming_keeps_what_the_complainant_said() -> None:
    complaint = in_status(S.RESOLVED_PENDING_CONFIRMATION)
    complaint.confirm("ann", LATER, " phoned to say thanks ")
    assert complaint.closure_reason == "phoned to say thanks"
    [event] = complaint.pending_events
    assert isinstance(event, ComplaintChanged)
    assert event.reason == " phoned to say thanks "


def test_closing_unconfirmed_says_why() -> None:
    complaint = in_status(S.RESOLVED_PENDING_CONFIRMATION)
    complaint.close(" no answer in ten days ", "ann", LATER)
    assert (complaint.status, complaint.closed_at, complaint.closure_confirmed_by_customer) == (S.CLOSED, LATER, False)
    assert complaint.closure_reason == "no answer in ten days"
    [event] = complaint.pending_events
    assert isinstance(event, ComplaintChanged)
    assert (event.reason, event.changes["closed_at"]) == ("no answer in ten days", (None, LATER.isoformat()))


def test_investigating_keeps_notes_given_and_taking_action_records_it() -> None:
    complaint = in_status(S.ACKNOWLEDGED)
    complaint.investigate("ann", NOW, " the queue was unwatched ")
    assert complaint.investigation_notes == "the queue was unwatched"
    complaint.take_action(" new rota ", "ann", NOW)
    assert complaint.actions_taken == "new rota"
    complaint.investigate("ann", NOW)
    assert complaint.investigation_notes == "the queue was unwatched"
    [*_, event] = complaint.pending_events
    assert isinstance(event, ComplaintChanged)
    assert event.changes == {"status": ("action_taken", "under_investigation")}


def test_editing_records_old_and_new_and_refuses_unknown_fields() -> None:
    complaint = received()
    service = uuid.uuid4()
    complaint.update({"service_id": service, "category": "conduct"}, "ann", LATER, "triaged")
    [event] = complaint.pending_events
    assert isinstance(event, ComplaintChanged)
    assert event.changes == {"service_id": (None, str(service)), "category": (None, "conduct")}
    assert (event.reason, event.actor, complaint.updated_at) == ("triaged", "ann", LATER)
    assert set(EDITABLE_FIELDS) >= {"title", "relationship_manager", "owner", "root_cause", "investigation_notes"}
    assert not set(EDITABLE_FIELDS) & {"complainant", "status", "escalated_to", "acknowledge_due_at", "number"}


def test_an_edit_that_changes_nothing_records_nothing() -> None:
    complaint = received()
    complaint.update({"title": complaint.title}, "ann", LATER)
    assert (complaint.version, complaint.updated_at, complaint.pending_events) == (1, NOW, [])


def test_linking_adds_only_new_links_by_kind_and_id() -> None:
    complaint = received()
    same = uuid.uuid4()
    incident = ComplaintLink(ComplaintLinkKind.INCIDENT, same, "INC0000001")
    request = ComplaintLink(ComplaintLinkKind.REQUEST, same, "REQ0000001")
    supplier = ComplaintLink(ComplaintLinkKind.SUPPLIER, uuid.uuid4())
    assert complaint.link([incident, request, incident], "ann", LATER, "from the call") == [incident, request]
    [event] = complaint.pending_events
    assert isinstance(event, ComplaintChanged)
    assert event.changes == {"links": ([], ["incident:INC0000001", "request:REQ0000001"])}
    assert (event.added_links, event.reason) == ((incident, request), "from the call")
    assert complaint.link([incident], "ann", LATER) == []
    assert complaint.version == 2
    assert complaint.link([supplier, request], "ann", LATER) == [supplier]
    assert complaint.links == [incident, request, supplier]
    assert supplier.label() == f"supplier:{supplier.id}"


def test_linking_nothing_new_on_a_closed_complaint_is_still_refused() -> None:
    complaint = in_status(S.CLOSED)
    with pytest.raises(InvalidTransition):
        complaint.link([], "ann", NOW)
