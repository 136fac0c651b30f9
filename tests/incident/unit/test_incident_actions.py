"""What each incident action records and refuses: the version and time of the change, the actor
and reason of its event, the fields it sets (read back), the bounds of its rules (the reopen
window, the priority range), and edits of title and classification (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.incident.domain.incident_lifecycle import (
    Action,
    Channel,
    ClosedBy,
    EscalationKind,
    HoldReason,
    IncidentChanged,
    IncidentOpened,
    IncidentStatus,
    PostIncidentReview,
    plain,
)
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import AffectedCI, Impact, Urgency
from shared.errors import Conflict, InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
S = IncidentStatus
ID = uuid.UUID(int=7)


def opened(**overrides: Any) -> Incident:
    values: dict[str, Any] = {
        "incident_id": ID,
        "number": "INC0000007",
        "title": "Mail is down",
        "description": "no mail since 8",
        "caller": "bob",
        "channel": Channel.EMAIL,
        "impact": Impact.MEDIUM,
        "urgency": Urgency.MEDIUM,
        "ci_id": None,
        "now": NOW,
    }
    values.update(overrides)
    incident = Incident.open(**values)
    incident.pending_events.clear()
    return incident


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def last_event(incident: Incident) -> IncidentChanged:
    event = incident.pending_events[-1]
    assert isinstance(event, IncidentChanged)
    return event


def fields_of(refused: pytest.ExceptionInfo[RuleViolation]) -> list[str]:
    assert isinstance(refused.value.detail, str) and refused.value.detail
    return [e["field"] for e in refused.value.extensions["errors"]]


def review(by: str = "mia", at: datetime = NOW) -> PostIncidentReview:
    return PostIncidentReview(
        "mail down 2 h", "expired certificate", "watch expiry dates", ("alert 30 days ahead", "renew yearly"), by, at
    )


# ---------------------------------------------------------------- opening


def test_opening_keeps_what_the_caller_said_and_when() -> None:
    service = uuid.uuid4()
    incident = Incident.open(
        incident_id=ID,
        number="INC0000007",
        title="  Mail is down  ",
        description="no mail since 8",
        caller="bob",
        channel=Channel.EMAIL,
        impact=Impact.HIGH,
        urgency=Urgency.LOW,
        ci_id=None,
        now=NOW,
        category="email",
        subcategory="outlook",
        service_id=service,
    )
    assert (incident.id, incident.number, incident.title) == (ID, "INC0000007", "Mail is down")
    assert (incident.description, incident.caller, incident.channel) == ("no mail since 8", "bob", Channel.EMAIL)
    assert (incident.impact, incident.urgency, incident.priority) == (Impact.HIGH, Urgency.LOW, 3)
    assert (incident.category, incident.subcategory, incident.service_id) == ("email", "outlook", service)
    assert (incident.opened_at, incident.updated_at, incident.version, incident.status) == (NOW, NOW, 1, S.NEW)
    assert incident.pending_events == [IncidentOpened(ID)]


# ---------------------------------------------------------------- every action: version, time, actor, reason


def test_each_action_raises_the_version_by_one_and_records_its_time_actor_and_reason() -> None:
    incident = opened()

    def assign(at: datetime) -> None:
        incident.assign(group="mail", assignee=None, actor="lead", now=at, reason="triage")

    steps = [
        ("lead", "triage", assign),
        ("ann", "", lambda at: incident.start("ann", at)),
        ("ann", "asked bob", lambda at: incident.hold(HoldReason.AWAITING_CALLER, "ann", at, "asked bob")),
        ("ann", "", lambda at: incident.resume("ann", at)),
        ("ann", "typo", lambda at: incident.update({"title": "Mail down"}, actor="ann", now=at, reason="typo")),
        ("ann", "vip", lambda at: incident.override_priority(1, reason="vip", actor="ann", now=at)),
        ("mia", "big", lambda at: incident.declare_major(manager="mia", actor="mia", now=at, reason="big")),
        ("ann", "renewed cert", lambda at: incident.resolve(code="fixed", notes="renewed cert", actor="ann", now=at)),
        ("bob", "still down", lambda at: incident.reopen("still down", "bob", at)),
        ("ann", "dup", lambda at: incident.cancel("dup", "ann", at)),
    ]
    for minutes, (actor, reason, step) in enumerate(steps, start=1):
        step(later(minutes))
        event = last_event(incident)
        assert (incident.version, incident.updated_at) == (1 + minutes, later(minutes))
        assert (event.incident_id, event.actor, event.reason) == (ID, actor, reason)
    assert len(incident.pending_events) == len(steps)


def test_an_edit_to_an_incident_on_hold_keeps_the_hold_and_records_the_previous_priority() -> None:
    incident = opened()
    incident.assign(group="mail", assignee="ann", actor="lead", now=NOW)
    incident.start("ann", NOW)
    incident.hold(HoldReason.AWAITING_SUPPLIER, "ann", NOW)
    incident.update({"urgency": Urgency.HIGH}, actor="ann", now=later(1))
    event = last_event(incident)
    assert (incident.status, incident.hold_reason, incident.priority) == (S.ON_HOLD, HoldReason.AWAITING_SUPPLIER, 2)
    assert (event.action, event.previous_status, event.status) == (Action.UPDATE, S.ON_HOLD, S.ON_HOLD)
    assert event.details == {"previous_priority": 3}
    assert event.changes["urgency"] == (2, 1)


# ---------------------------------------------------------------- assign, start, hold, resume


def test_assigning_trims_the_group_keeps_the_supplier_and_a_blank_group_is_refused() -> None:
    incident = opened()
    with pytest.raises(RuleViolation) as refused:
        incident.assign(group="  ", assignee="ann", actor="lead", now=NOW)
    assert fields_of(refused) == ["assignment_group"]
    assert (incident.status, incident.version) == (S.NEW, 1)
    supplier = uuid.uuid4()
    incident.assign(group=" acme-noc ", assignee="ann", actor="lead", now=NOW, supplier_id=supplier)
    assert (incident.assignment_group, incident.assignee, incident.supplier_id) == ("acme-noc", "ann", supplier)
    assert last_event(incident).changes["supplier_id"] == (None, str(supplier))


def test_the_first_response_is_kept_when_work_starts_again_or_the_incident_is_resolved() -> None:
    incident = opened()
    incident.assign(group="mail", assignee="ann", actor="lead", now=NOW)
    incident.start("ann", later(10))
    assert incident.first_response_at == later(10)
    assert last_event(incident).changes["first_response_at"] == (None, later(10).isoformat())
    incident.resolve(code="fixed", notes="", actor="ann", now=later(20))
    assert incident.first_response_at == later(10)
    incident.reopen("again", "bob", later(30))
    incident.hold(HoldReason.AWAITING_CALLER, "ann", later(40))
    incident.resume("ann", later(50))
    assert incident.first_response_at == later(10)


def test_a_hold_records_its_reason_and_note_and_resuming_or_resolving_clears_it() -> None:
    incident = opened()
    incident.assign(group="mail", assignee="ann", actor="lead", now=NOW)
    incident.start("ann", NOW)
    incident.hold(HoldReason.AWAITING_CHANGE, "ann", NOW, "CHG0000012 next week")
    event = last_event(incident)
    assert incident.hold_reason is HoldReason.AWAITING_CHANGE
    assert event.changes["hold_reason"] == (None, "awaiting_change")
    assert event.reason == "CHG0000012 next week"
    incident.resume("ann", NOW)
    assert incident.hold_reason is None
    assert last_event(incident).changes["hold_reason"] == ("awaiting_change", None)
    incident.hold(HoldReason.AWAITING_CALLER, "ann", NOW)
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    assert incident.hold_reason is None
    assert last_event(incident).changes["hold_reason"] == ("awaiting_caller", None)


# ---------------------------------------------------------------- resolve, close, reopen, cancel


def test_resolving_needs_a_code_and_records_code_notes_and_time() -> None:
    incident = opened()
    with pytest.raises(RuleViolation) as refused:
        incident.resolve(code=" ", notes="x", actor="ann", now=NOW)
    assert fields_of(refused) == ["resolution_code"]
    assert incident.status is S.NEW
    incident.resolve(code="workaround", notes="restarted", actor="ann", now=later(5))
    assert (incident.resolution_code, incident.resolution_notes, incident.resolved_at) == (
        "workaround",
        "restarted",
        later(5),
    )
    assert last_event(incident).changes["resolved_at"] == (None, later(5).isoformat())


def test_closing_on_the_callers_word_records_when_and_how() -> None:
    incident = opened()
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    incident.close("bob", later(60), reason="works again")
    event = last_event(incident)
    assert (incident.status, incident.closed_at, incident.closed_by) == (S.CLOSED, later(60), ClosedBy.CALLER_CONFIRMED)
    assert event.changes["closed_by"] == (None, "caller_confirmed")
    assert event.changes["closed_at"] == (None, later(60).isoformat())
    assert (event.actor, event.reason) == ("bob", "works again")


def test_an_automatic_close_says_for_how_long_it_was_resolved() -> None:
    incident = opened()
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    after = timedelta(hours=36)
    incident.close_automatically(NOW + after, after)
    event = last_event(incident)
    assert event.reason == "resolved for 1.5 days without the caller's confirmation"
    assert (incident.closed_at, incident.closed_by, event.actor) == (NOW + after, ClosedBy.AUTO_CLOSED, "auto-close")


def test_only_a_resolved_incident_is_due_for_auto_close() -> None:
    incident = opened()
    week = timedelta(days=7)
    assert not incident.due_for_auto_close(NOW + week, timedelta(days=1))  # new, never resolved
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    incident.reopen("again", "bob", NOW)
    assert not incident.due_for_auto_close(NOW + week, timedelta(days=1))  # reopened: in progress


def test_a_reopen_exactly_at_the_end_of_the_window_is_allowed_and_a_second_later_refused() -> None:
    window = timedelta(days=3)
    late = opened()
    late.resolve(code="fixed", notes="", actor="ann", now=NOW)
    with pytest.raises(InvalidTransition) as refused:
        late.reopen("again", "bob", NOW + window + timedelta(seconds=1), window=window)
    assert refused.value.extensions["allowed_actions"] == ["close"]
    assert refused.value.extensions["state"] == "resolved"  # the status a client can act on, not a sentence
    assert "reopen window" in refused.value.detail
    assert (late.status, late.resolved_at) == (S.RESOLVED, NOW)
    in_time = opened()
    in_time.resolve(code="fixed", notes="", actor="ann", now=NOW)
    in_time.reopen("again", "bob", NOW + window, window=window)
    assert in_time.status is S.IN_PROGRESS


def test_the_default_reopen_window_is_a_week() -> None:
    incident = opened()
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    with pytest.raises(InvalidTransition):
        incident.reopen("again", "bob", NOW + timedelta(days=7, seconds=1))
    incident.reopen("again", "bob", NOW + timedelta(days=7))
    assert incident.status is S.IN_PROGRESS


def test_reopening_clears_the_resolution_and_records_why() -> None:
    incident = opened()
    incident.resolve(code="fixed", notes="restarted", actor="ann", now=NOW)
    with pytest.raises(RuleViolation) as refused:
        incident.reopen("  ", "bob", NOW)
    assert fields_of(refused) == ["reason"]
    incident.reopen("it broke again", "bob", later(1))
    event = last_event(incident)
    assert (incident.resolved_at, incident.resolution_code, incident.resolution_notes) == (None, None, "")
    assert event.changes["resolution_code"] == ("fixed", None)
    assert event.changes["resolution_notes"] == ("restarted", "")
    assert (event.actor, event.reason) == ("bob", "it broke again")


def test_cancelling_needs_a_reason_and_records_it() -> None:
    incident = opened()
    with pytest.raises(RuleViolation) as refused:
        incident.cancel(" ", "ann", NOW)
    assert fields_of(refused) == ["reason"]
    assert incident.status is S.NEW
    incident.cancel("duplicate of INC0000006", "ann", later(1))
    event = last_event(incident)
    assert (incident.status, event.reason, event.changes) == (
        S.CANCELLED,
        "duplicate of INC0000006",
        {"status": ("new", "cancelled")},
    )


# ---------------------------------------------------------------- edits


def test_an_edit_to_a_blank_title_is_refused_and_changes_nothing() -> None:
    incident = opened()
    with pytest.raises(RuleViolation) as refused:
        incident.update({"title": "   ", "description": "new"}, actor="ann", now=NOW)
    assert fields_of(refused) == ["title"]
    assert (incident.title, incident.description, incident.version) == ("Mail is down", "no mail since 8", 1)


def test_a_subcategory_is_accepted_with_a_category_and_refused_without_one() -> None:
    incident = opened()
    with pytest.raises(RuleViolation) as refused:
        incident.update({"subcategory": "smtp"}, actor="ann", now=NOW)
    assert fields_of(refused) == ["subcategory"]
    assert incident.subcategory is None
    incident.update({"category": "email", "subcategory": "smtp"}, actor="ann", now=NOW)
    assert (incident.category, incident.subcategory) == ("email", "smtp")
    incident.update({"subcategory": "imap"}, actor="ann", now=NOW)  # the category on the record counts
    assert incident.subcategory == "imap"
    with pytest.raises(RuleViolation) as cleared:
        incident.update({"category": None}, actor="ann", now=NOW)
    assert fields_of(cleared) == ["subcategory"]
    assert incident.category == "email"


def test_every_unknown_field_of_an_edit_is_named() -> None:
    incident = opened()
    with pytest.raises(RuleViolation) as refused:
        incident.update({"status": "closed", "caller": "eve", "title": "x"}, actor="ann", now=NOW)
    assert fields_of(refused) == ["caller", "status"]
    assert incident.title == "Mail is down"


def test_an_impact_given_as_a_number_is_kept_as_an_impact_and_sets_the_priority() -> None:
    incident = opened()
    incident.update({"impact": 1, "urgency": 1}, actor="ann", now=NOW)
    assert (incident.impact, incident.urgency, incident.priority) == (Impact.HIGH, Urgency.HIGH, 1)
    assert isinstance(incident.impact, Impact) and isinstance(incident.urgency, Urgency)
    assert last_event(incident).changes["priority"] == (3, 1)


def test_a_new_urgency_uses_the_configured_matrix() -> None:
    matrix = {(impact, urgency): 5 for impact in Impact for urgency in Urgency}
    incident = opened()
    incident.update({"urgency": Urgency.HIGH}, actor="ann", now=NOW, matrix=matrix)
    assert incident.priority == 5


def test_an_edit_of_the_description_keeps_the_priority_and_its_override() -> None:
    incident = opened()
    incident.override_priority(2, reason="vip", actor="ann", now=NOW)
    incident.update({"description": "since 7"}, actor="ann", now=later(1))
    event = last_event(incident)
    assert (incident.priority, incident.priority_override_reason) == (2, "vip")
    assert event.changes == {"description": ("no mail since 8", "since 7")}
    assert event.details == {"previous_priority": 2}


# ---------------------------------------------------------------- priority override


@pytest.mark.parametrize("priority", [0, 6])
def test_a_priority_outside_one_to_five_is_refused(priority: int) -> None:
    incident = opened()
    with pytest.raises(RuleViolation) as refused:
        incident.override_priority(priority, reason="why not", actor="ann", now=NOW)
    assert fields_of(refused) == ["priority"]
    assert incident.priority == 3


@pytest.mark.parametrize("priority", [1, 5])
def test_the_ends_of_the_priority_range_may_be_set(priority: int) -> None:
    incident = opened()
    incident.override_priority(priority, reason="  agreed with the owner ", actor="ann", now=NOW)
    assert (incident.priority, incident.priority_override_reason) == (priority, "agreed with the owner")


def test_an_override_without_reason_or_to_the_same_priority_names_the_field() -> None:
    incident = opened()
    with pytest.raises(RuleViolation) as no_reason:
        incident.override_priority(1, reason=" ", actor="ann", now=NOW)
    assert fields_of(no_reason) == ["reason"]
    with pytest.raises(RuleViolation) as same:
        incident.override_priority(3, reason="same", actor="ann", now=NOW)
    assert fields_of(same) == ["priority"]


# ---------------------------------------------------------------- escalation


def test_a_functional_escalation_of_work_in_progress_keeps_its_status_and_names_the_supplier() -> None:
    incident = opened()
    incident.assign(group="mail", assignee="ann", actor="lead", now=NOW)
    incident.start("ann", NOW)
    supplier = uuid.uuid4()
    incident.escalate(
        EscalationKind.FUNCTIONAL, actor="ann", now=later(1), to_group=" acme ", supplier_id=supplier, reason="theirs"
    )
    event = last_event(incident)
    assert (incident.status, incident.assignment_group, incident.assignee) == (S.IN_PROGRESS, "acme", None)
    assert incident.supplier_id == supplier
    assert (event.action, event.reason, event.details["from_group"]) == (Action.ESCALATE, "theirs", "mail")
    assert "status" not in event.changes
    assert event.changes["escalation"] == (
        None,
        {"kind": "functional", "trigger": "manual", "to_group": "acme", "notified": []},
    )


def test_a_hierarchical_escalation_records_who_was_told_and_changes_no_field() -> None:
    incident = opened()
    incident.escalate(EscalationKind.HIERARCHICAL, actor="ann", now=later(1), notify=[" boss ", "cio"])
    event = last_event(incident)
    assert incident.status is S.NEW and incident.assignment_group is None
    told = {"kind": "hierarchical", "trigger": "manual", "to_group": None, "notified": ["boss", "cio"]}
    assert event.changes == {"escalation": (None, told)}
    assert incident.version == 2


# ---------------------------------------------------------------- major incidents


def test_a_major_incident_records_its_trimmed_manager_and_when_it_was_declared() -> None:
    incident = opened()
    incident.declare_major(manager=" mia ", actor="lead", now=later(3), reason="all mail")
    event = last_event(incident)
    assert (incident.major, incident.major_manager, incident.major_declared_at) == (True, "mia", later(3))
    assert event.changes == {
        "major": (False, True),
        "major_manager": (None, "mia"),
        "major_declared_at": (None, later(3).isoformat()),
    }


def test_a_second_declaration_is_a_conflict_naming_the_state_and_what_is_allowed() -> None:
    incident = opened()
    incident.declare_major(manager="mia", actor="lead", now=NOW)
    with pytest.raises(Conflict) as refused:
        incident.declare_major(manager="max", actor="lead", now=NOW)
    assert "mia" in refused.value.detail
    assert refused.value.extensions == {
        "state": "new",
        "allowed_actions": ["assign", "cancel", "escalate", "override_priority", "resolve", "review", "update"],
    }
    assert (incident.major_manager, incident.version) == ("mia", 2)


def test_the_review_is_recorded_by_its_author_at_its_time_with_every_part_read_back() -> None:
    incident = opened()
    incident.declare_major(manager="mia", actor="lead", now=NOW)
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    incident.record_review(review(by="mia", at=later(90)))
    event = last_event(incident)
    assert incident.review == review(by="mia", at=later(90))
    assert (event.actor, incident.updated_at, incident.status) == ("mia", later(90), S.RESOLVED)
    assert event.changes["review"] == (
        None,
        {
            "summary": "mail down 2 h",
            "root_cause": "expired certificate",
            "lessons": "watch expiry dates",
            "actions": ["alert 30 days ahead", "renew yearly"],
        },
    )


@pytest.mark.parametrize("actions", [(), ("renew", " ")])
def test_a_review_lists_improvement_actions_none_of_them_empty(actions: tuple[str, ...]) -> None:
    with pytest.raises(RuleViolation) as refused:
        PostIncidentReview("s", "r", "l", actions, "mia", NOW)
    assert fields_of(refused) == ["actions"]


def test_a_review_with_every_part_names_no_missing_one() -> None:
    assert PostIncidentReview("s", "r", "l", ("a",), "mia", NOW).root_cause == "r"
    with pytest.raises(RuleViolation) as refused:
        PostIncidentReview("s", " ", "l", ("a",), "mia", NOW)
    assert fields_of(refused) == ["root_cause"]


def test_values_are_recorded_in_their_json_form() -> None:
    some = uuid.UUID(int=3)
    assert plain(some) == "00000000-0000-0000-0000-000000000003"
    assert plain(NOW) == "2026-11-30T09:00:00+00:00"
    assert plain(HoldReason.AWAITING_CALLER) == "awaiting_caller"
    assert plain(3) == 3 and plain(None) is None


# ---------------------------------------------------------------- refusals name their field and state


def test_an_action_done_without_a_reason_records_none() -> None:
    incident = opened()
    incident.assign(group="mail", assignee="ann", actor="lead", now=NOW)
    incident.start("ann", NOW)
    incident.hold(HoldReason.AWAITING_CALLER, "ann", NOW)
    incident.update({"title": "Mail down"}, actor="ann", now=NOW)
    incident.escalate(EscalationKind.HIERARCHICAL, actor="ann", now=NOW, notify=["boss"])
    incident.declare_major(manager="mia", actor="mia", now=NOW)
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    incident.record_review(review())
    incident.close("bob", NOW)
    assert [e.reason for e in incident.pending_events if isinstance(e, IncidentChanged)] == [""] * 9


def test_a_functional_escalation_is_recorded_with_its_actor_and_time() -> None:
    incident = opened()
    incident.escalate(EscalationKind.FUNCTIONAL, actor="ann", now=later(4), to_group="l2")
    assert (last_event(incident).actor, incident.updated_at) == ("ann", later(4))


def test_a_close_sets_the_time_of_the_change() -> None:
    incident = opened()
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    incident.close("bob", later(9))
    assert (incident.updated_at, incident.version) == (later(9), 3)


def test_escalation_refusals_name_the_field() -> None:
    incident = opened()
    incident.assign(group="desk", assignee=None, actor="lead", now=NOW)
    for kwargs, field in (
        ({"kind": EscalationKind.FUNCTIONAL, "to_group": " "}, "to_group"),
        ({"kind": EscalationKind.FUNCTIONAL, "to_group": "desk"}, "to_group"),
        ({"kind": EscalationKind.HIERARCHICAL, "notify": [" "]}, "notify"),
    ):
        with pytest.raises(RuleViolation) as refused:
            incident.escalate(actor="ann", now=NOW, **kwargs)
        assert fields_of(refused) == [field]
    assert incident.version == 2


def test_opening_refusals_name_their_field() -> None:
    for overrides, field in (
        ({"title": " "}, "title"),
        ({"subcategory": "smtp"}, "subcategory"),
        ({"impact": None}, "impact"),
    ):
        with pytest.raises(RuleViolation) as refused:
            opened(**overrides)
        assert fields_of(refused) == [field]


def test_an_incident_on_a_ci_records_it_and_a_refused_one_names_it() -> None:
    ci_id = uuid.uuid4()
    incident = opened(ci_id=ci_id, ci=AffectedCI(ci_id, "live", 4, None), impact=None)
    assert (incident.ci_id, incident.impact) == (ci_id, Impact.LOW)
    with pytest.raises(RuleViolation) as refused:
        opened(ci_id=ci_id, ci=None)
    assert fields_of(refused) == ["ci_id"] and str(ci_id) in refused.value.detail


def test_a_blank_manager_is_refused_naming_it() -> None:
    with pytest.raises(RuleViolation) as refused:
        opened().declare_major(manager=" ", actor="mia", now=NOW)
    assert fields_of(refused) == ["manager"]


def test_closing_a_major_incident_without_review_says_why() -> None:
    incident = opened()
    incident.declare_major(manager="mia", actor="mia", now=NOW)
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    with pytest.raises(Conflict) as refused:
        incident.close("bob", NOW)
    assert isinstance(refused.value.detail, str) and "INC0000007" in refused.value.detail
    assert refused.value.extensions["state"] == "resolved"


def test_an_action_the_status_does_not_allow_names_the_status() -> None:
    incident = opened()
    with pytest.raises(InvalidTransition) as refused:
        incident.start("ann", NOW)
    assert refused.value.extensions == {"state": "new", "allowed_actions": incident.allowed_actions()}
