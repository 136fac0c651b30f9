"""The incident record's rules beyond the lifecycle: CI check and default impact, the priority
matrix and its override, edits, escalation, major incidents and their review, automatic closing,
notes (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.incident.domain.incident_lifecycle import (
    Channel,
    ClosedBy,
    EscalationKind,
    EscalationTrigger,
    IncidentChanged,
    IncidentStatus,
    NoteVisibility,
    PostIncidentReview,
)
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import (
    DEFAULT_PRIORITY_MATRIX,
    AffectedCI,
    Impact,
    Urgency,
    impact_for_criticality,
    priority_matrix,
)
from services.incident.domain.timeline import NoteKind, major_update, write_note
from shared.errors import Conflict, InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
S = IncidentStatus


def open_incident(**overrides: object) -> Incident:
    values: dict[str, object] = {
        "incident_id": uuid.uuid4(),
        "number": "INC0000001",
        "title": "Payroll is slow",
        "description": "",
        "caller": "bob",
        "channel": Channel.PORTAL,
        "impact": Impact.MEDIUM,
        "urgency": Urgency.MEDIUM,
        "ci_id": None,
        "now": NOW,
    }
    values.update(overrides)
    incident = Incident.open(**values)  # type: ignore[arg-type]
    incident.pending_events.clear()
    return incident


def ci(status: str = "live", criticality: int = 1, service_id: uuid.UUID | None = None) -> AffectedCI:
    return AffectedCI(uuid.uuid4(), status, criticality, service_id)


def only_change(incident: Incident) -> IncidentChanged:
    [event] = incident.pending_events
    assert isinstance(event, IncidentChanged)
    return event


# ---------------------------------------------------------------- CI, impact, classification


@pytest.mark.parametrize(
    ("criticality", "impact"), [(1, Impact.HIGH), (2, Impact.MEDIUM), (3, Impact.MEDIUM), (4, Impact.LOW)]
)
def test_the_default_impact_comes_from_the_cis_criticality(criticality: int, impact: Impact) -> None:
    assert impact_for_criticality(criticality) is impact
    affected = ci(criticality=criticality)
    incident = open_incident(ci_id=affected.id, ci=affected, impact=None, urgency=Urgency.HIGH)
    assert incident.impact is impact
    assert incident.priority == DEFAULT_PRIORITY_MATRIX[(impact, Urgency.HIGH)]


def test_an_impact_given_wins_over_the_cis_and_the_cis_service_fills_a_missing_one() -> None:
    service, other = uuid.uuid4(), uuid.uuid4()
    affected = ci(criticality=1, service_id=service)
    incident = open_incident(ci_id=affected.id, ci=affected, impact=Impact.LOW)
    assert (incident.impact, incident.service_id) == (Impact.LOW, service)
    given = open_incident(ci_id=affected.id, ci=affected, service_id=other)
    assert given.service_id == other


@pytest.mark.parametrize("affected", [None, ci(status="retired")], ids=["unknown", "retired"])
def test_an_incident_on_an_unknown_or_retired_ci_is_refused_naming_ci_id(affected: AffectedCI | None) -> None:
    with pytest.raises(RuleViolation) as refused:
        open_incident(ci_id=uuid.uuid4(), ci=affected)
    assert refused.value.extensions["errors"][0]["field"] == "ci_id"


def test_without_impact_nor_ci_the_impact_is_required_and_a_subcategory_needs_a_category() -> None:
    with pytest.raises(RuleViolation) as no_impact:
        open_incident(impact=None)
    assert no_impact.value.extensions["errors"][0]["field"] == "impact"
    with pytest.raises(RuleViolation) as no_category:
        open_incident(subcategory="vpn")
    assert no_category.value.extensions["errors"][0]["field"] == "subcategory"


# ---------------------------------------------------------------- priority


def test_a_configured_matrix_gives_the_priority_and_a_malformed_one_is_refused() -> None:
    matrix = priority_matrix([[1, 1, 2], [2, 3, 4], [3, 4, 5]])
    assert open_incident(impact=Impact.HIGH, urgency=Urgency.MEDIUM, matrix=matrix).priority == 1
    for rows in ([[1, 2, 3], [2, 3, 4]], [[1, 2, 3], [2, 3, 4], [3, 4, 6]], [[1, 2], [2, 3], [3, 4]]):
        with pytest.raises(ValueError, match="priorit"):
            priority_matrix(rows)


def test_an_override_needs_a_reason_and_a_new_priority_and_is_recorded() -> None:
    incident = open_incident()
    with pytest.raises(RuleViolation, match="why"):
        incident.override_priority(1, reason=" ", actor="ann", now=NOW)
    with pytest.raises(RuleViolation, match="already"):
        incident.override_priority(3, reason="same", actor="ann", now=NOW)
    incident.override_priority(1, reason="the CEO's laptop", actor="ann", now=NOW)
    event = only_change(incident)
    assert event.changes["priority"] == (3, 1)
    assert event.details == {"previous_priority": 3, "override": True}
    assert incident.priority_override_reason == "the CEO's laptop"


def test_a_new_impact_recomputes_the_priority_and_ends_an_override() -> None:
    incident = open_incident()
    incident.override_priority(1, reason="vip", actor="ann", now=NOW)
    incident.pending_events.clear()
    incident.update({"impact": Impact.LOW}, actor="ann", now=NOW, reason="one user only")
    event = only_change(incident)
    assert incident.priority == 4  # low x medium
    assert event.changes["priority"] == (1, 4)
    assert event.changes["priority_override_reason"] == ("vip", None)
    assert incident.priority_override_reason is None


def test_an_edit_that_changes_nothing_records_nothing_and_unknown_fields_are_refused() -> None:
    incident = open_incident(category="network")
    incident.update({"category": "network", "urgency": Urgency.MEDIUM}, actor="ann", now=NOW)
    assert incident.pending_events == [] and incident.version == 1
    with pytest.raises(RuleViolation) as refused:
        incident.update({"status": "closed"}, actor="ann", now=NOW)
    assert refused.value.extensions["errors"][0]["field"] == "status"
    incident.update({"category": None}, actor="ann", now=NOW)
    assert only_change(incident).changes == {"category": ("network", None)}


def test_classification_may_be_corrected_once_resolved_but_not_once_closed() -> None:
    incident = open_incident()
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    incident.update({"category": "hardware"}, actor="ann", now=NOW)
    incident.close("bob", NOW)
    with pytest.raises(InvalidTransition):
        incident.update({"category": "software"}, actor="ann", now=NOW)


# ---------------------------------------------------------------- escalation


def test_a_functional_escalation_reassigns_and_a_new_incident_becomes_assigned() -> None:
    incident = open_incident()
    incident.escalate(EscalationKind.FUNCTIONAL, actor="ann", now=NOW, to_group="network-l2", reason="routing")
    event = only_change(incident)
    assert incident.status is S.ASSIGNED and incident.assignment_group == "network-l2"
    assert event.details == {
        "kind": "functional",
        "trigger": "manual",
        "from_group": None,
        "to_group": "network-l2",
        "notified": [],
    }
    assert event.changes["escalation"] == (
        None,
        {"kind": "functional", "trigger": "manual", "to_group": "network-l2", "notified": []},
    )


def test_the_sla_watcher_escalates_up_the_line_without_touching_the_assignment() -> None:
    incident = open_incident()
    incident.assign(group="desk", assignee="ann", actor="lead", now=NOW)
    incident.pending_events.clear()
    incident.escalate(
        EscalationKind.HIERARCHICAL,
        actor="sla-watcher",
        now=NOW,
        trigger=EscalationTrigger.SLA_BREACHED,
        notify=["duty-manager", " "],
    )
    event = only_change(incident)
    assert (incident.assignment_group, incident.assignee, incident.status) == ("desk", "ann", S.ASSIGNED)
    assert event.details["trigger"] == "sla_breached" and event.details["notified"] == ["duty-manager"]


def test_an_escalation_names_its_target_and_is_refused_once_resolved() -> None:
    incident = open_incident()
    incident.assign(group="desk", assignee=None, actor="lead", now=NOW)
    with pytest.raises(RuleViolation) as no_group:
        incident.escalate(EscalationKind.FUNCTIONAL, actor="ann", now=NOW)
    assert no_group.value.extensions["errors"][0]["field"] == "to_group"
    with pytest.raises(RuleViolation, match="with desk already"):
        incident.escalate(EscalationKind.FUNCTIONAL, actor="ann", now=NOW, to_group="desk")
    with pytest.raises(RuleViolation) as nobody:
        incident.escalate(EscalationKind.HIERARCHICAL, actor="ann", now=NOW, notify=[""])
    assert nobody.value.extensions["errors"][0]["field"] == "notify"
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    with pytest.raises(InvalidTransition):
        incident.escalate(EscalationKind.HIERARCHICAL, actor="ann", now=NOW, notify=["boss"])


# ---------------------------------------------------------------- major incidents


def review(by: str = "mia") -> PostIncidentReview:
    return PostIncidentReview("outage", "expired cert", "monitor certs", ("add cert expiry alert",), by, NOW)


def test_a_major_incident_needs_a_manager_is_declared_once_and_closes_only_after_its_review() -> None:
    incident = open_incident()
    with pytest.raises(RuleViolation) as nobody:
        incident.declare_major(manager=" ", actor="mia", now=NOW)
    assert nobody.value.extensions["errors"][0]["field"] == "manager"
    incident.declare_major(manager="mia", actor="mia", now=NOW)
    assert (incident.major, incident.major_manager, incident.major_declared_at) == (True, "mia", NOW)
    assert "declare_major" not in incident.allowed_actions()
    with pytest.raises(Conflict, match="already a major incident"):
        incident.declare_major(manager="max", actor="mia", now=NOW)

    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    assert "close" not in incident.allowed_actions()
    with pytest.raises(Conflict) as refused:
        incident.close("bob", NOW)
    assert refused.value.extensions["missing"] == ["review"]
    assert refused.value.extensions["allowed_actions"] == ["reopen", "review", "update"]
    assert not incident.due_for_auto_close(NOW + timedelta(days=30), timedelta(days=5))

    incident.record_review(review())
    assert incident.due_for_auto_close(NOW + timedelta(days=30), timedelta(days=5))
    incident.close("bob", NOW)
    assert incident.status is S.CLOSED


def test_a_review_states_every_part() -> None:
    with pytest.raises(RuleViolation) as refused:
        PostIncidentReview(" ", "cause", "", (), "mia", NOW)
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["summary", "lessons", "actions"]


# ---------------------------------------------------------------- closing


def test_a_resolved_incident_closes_automatically_after_the_configured_time() -> None:
    incident = open_incident()
    incident.resolve(code="fixed", notes="", actor="ann", now=NOW)
    incident.pending_events.clear()
    after = timedelta(days=5)
    assert not incident.due_for_auto_close(NOW + after - timedelta(seconds=1), after)
    assert incident.due_for_auto_close(NOW + after, after)
    incident.close_automatically(NOW + after, after)
    event = only_change(incident)
    assert incident.closed_by is ClosedBy.AUTO_CLOSED and event.actor == "auto-close"
    assert event.reason == "resolved for 5 days without the caller's confirmation"
    assert not incident.due_for_auto_close(NOW + after, after)  # closed: nothing left to do


# ---------------------------------------------------------------- notes


def test_notes_need_text_and_an_open_record_and_major_updates_a_major_incident() -> None:
    incident = open_incident()
    note = write_note(incident, text=" called back ", visibility=NoteVisibility.CUSTOMER, author="ann", now=NOW)
    assert (note.kind, note.text) == (NoteKind.COMMENT, "called back")
    assert (
        write_note(incident, text="x", visibility=NoteVisibility.INTERNAL, author="a", now=NOW).kind
        is NoteKind.WORK_NOTE
    )
    with pytest.raises(RuleViolation) as empty:
        write_note(incident, text="  ", visibility=NoteVisibility.INTERNAL, author="ann", now=NOW)
    assert empty.value.extensions["errors"][0]["field"] == "text"
    with pytest.raises(Conflict, match="not a major incident"):
        major_update(incident, text="bridge open", author="mia", now=NOW)
    incident.declare_major(manager="mia", actor="mia", now=NOW)
    assert major_update(incident, text="bridge open", author="mia", now=NOW).visibility is NoteVisibility.CUSTOMER
    incident.cancel("duplicate", "ann", NOW)
    with pytest.raises(InvalidTransition):
        write_note(incident, text="late", visibility=NoteVisibility.CUSTOMER, author="bob", now=NOW)
