"""The improvement register as pure rules: the lifecycle table (a refused action names the allowed
ones), closing only with the benefit measured before and after, and which process events raise an
entry (failed changes, reviews that fell short, complaints, low scores without a complaint, the
breach that reaches the month's threshold)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.reporting.domain.improvement_intake import proposal_for
from services.reporting.domain.improvements import (
    TRANSITIONS,
    Benefit,
    Improvement,
    ImprovementAction,
    ImprovementKind,
    ImprovementSource,
    ImprovementStatus,
    IntakePolicy,
    breach_proposal,
    due_date,
    month_of,
)
from shared.errors import InvalidTransition, RuleViolation
from shared.events.change import ChangeFailed, ChangeReviewed
from shared.events.complaint import ComplaintReceived
from shared.events.survey import SurveyAnswered

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
A, S = ImprovementAction, ImprovementStatus


def entry(**changes: object) -> Improvement:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "number": "IMP0000001",
        "kind": ImprovementKind.IMPROVEMENT,
        "title": "Faster P1 resolution",
        "description": "",
        "source": ImprovementSource.MANUAL,
        "source_ref": "",
        "owner": "sally",
        "target_date": date(2027, 1, 31),
        "status": S.RAISED,
        "benefit": Benefit(),
        "raised_by": "sally",
        "raised_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return Improvement(**values)  # type: ignore[arg-type]


def test_every_status_is_in_the_table_and_every_move_leads_to_a_status() -> None:
    assert set(TRANSITIONS) == set(ImprovementStatus)
    for moves in TRANSITIONS.values():
        assert all(to is None or to in ImprovementStatus for to in moves.values())


def test_an_entry_walks_its_lifecycle_and_closes_with_its_benefit_measured() -> None:
    e = entry().updated(NOW, measure="P1 resolution hours", before=9.5)
    assert (e.version, e.benefit.before) == (2, 9.5)
    for action, status in [(A.ACCEPT, S.ACCEPTED), (A.START, S.IN_PROGRESS), (A.IMPLEMENT, S.IMPLEMENTED)]:
        e = e.acted(action, NOW)
        assert e.status is status
    closed = e.acted(A.CLOSE, NOW + timedelta(days=1), after=6.0)
    assert (closed.status, closed.benefit.after, closed.benefit.change) == (S.CLOSED, 6.0, -3.5)
    assert closed.closed_at == NOW + timedelta(days=1) and closed.version == 6
    reopened = closed.acted(A.REOPEN, NOW, reason="the gain did not last")
    assert (reopened.status, reopened.closed_at, reopened.reason) == (S.IN_PROGRESS, None, "the gain did not last")


def test_a_refused_action_names_the_ones_the_status_allows() -> None:
    with pytest.raises(InvalidTransition) as refused:
        entry().acted(A.IMPLEMENT, NOW)
    assert refused.value.extensions["allowed_actions"] == ["accept", "reject", "update"]
    with pytest.raises(InvalidTransition):
        entry(status=S.CLOSED).updated(NOW, owner="bob")


def test_closing_needs_the_figures_before_and_after_and_rejecting_a_reason() -> None:
    implemented = entry(status=S.IMPLEMENTED)
    with pytest.raises(RuleViolation) as unmeasured:
        implemented.acted(A.CLOSE, NOW)
    fields = {e["field"] for e in unmeasured.value.extensions["errors"]}
    assert fields == {"after", "before", "measure"}
    with pytest.raises(RuleViolation) as no_reason:
        entry().acted(A.REJECT, NOW)
    assert no_reason.value.extensions["errors"][0]["field"] == "reason"
    with pytest.raises(RuleViolation):
        entry(owner=" ")


def _status_fields(number: str) -> dict[str, object]:
    return {
        "change_id": uuid.uuid4(),
        "number": number,
        "type": "normal",
        "previous_status": "implementing",
        "actor": "mike",
        "occurred_at": NOW,
        "requested_by": "rita",
    }


def test_a_failed_change_raises_a_nonconformity_owned_by_its_requester() -> None:
    failed = ChangeFailed(**_status_fields("CHG0000007"), status="failed", notes="DB migration timed out")
    p = proposal_for(failed, IntakePolicy())
    assert p is not None
    assert (p.kind, p.source, p.source_ref, p.owner) == (
        ImprovementKind.NONCONFORMITY,
        ImprovementSource.FAILED_CHANGE,
        "CHG0000007",
        "rita",
    )
    assert "backed out" in p.title and p.description == "DB migration timed out"


def test_a_review_raises_an_entry_only_when_the_change_fell_short() -> None:
    fields = _status_fields("CHG0000008") | {"status": "reviewed", "outcome": "successful"}
    assert proposal_for(ChangeReviewed(**fields, objectives_met=True), IntakePolicy()) is None
    short = proposal_for(ChangeReviewed(**fields, objectives_met=False), IntakePolicy())
    assert short is not None and short.source is ImprovementSource.POST_IMPLEMENTATION_REVIEW
    caused = proposal_for(ChangeReviewed(**fields, incident_ids=[uuid.uuid4(), uuid.uuid4()]), IntakePolicy())
    assert caused is not None and (caused.measure, caused.before) == ("incidents caused by the change", 2.0)


def _complaint() -> ComplaintReceived:
    return ComplaintReceived(
        complaint_id=uuid.uuid4(),
        number="CMP0000003",
        title="Nobody called back",
        status="received",
        complainant="carl",
        received_via="email",
        relationship_manager="rosa",
        received_at=NOW,
        acknowledge_due_at=NOW,
        respond_due_at=NOW,
        actor="agent",
        occurred_at=NOW,
    )


def _answer(score: int, complaint_id: uuid.UUID | None = None) -> SurveyAnswered:
    return SurveyAnswered(
        survey_id=uuid.uuid4(),
        number="SRV0000001",
        ticket_kind="incident",
        ticket_id=uuid.uuid4(),
        ticket_number="INC0000001",
        respondent="carl",
        issued_at=NOW,
        expires_at=NOW,
        occurred_at=NOW,
        answered_at=NOW,
        score=score,
        has_comment=False,
        complaint_id=complaint_id,
    )


def test_a_complaint_raises_an_entry_for_the_relationship_manager() -> None:
    p = proposal_for(_complaint(), IntakePolicy())
    assert p is not None and (p.source, p.source_ref, p.owner) == (ImprovementSource.COMPLAINT, "CMP0000003", "rosa")


def test_a_low_score_raises_an_entry_unless_it_opened_a_complaint() -> None:
    policy = IntakePolicy(low_score_max=2)
    assert proposal_for(_answer(3), policy) is None
    low = proposal_for(_answer(2), policy)
    assert low is not None and (low.source, low.before) == (ImprovementSource.SURVEY, 2.0)
    assert proposal_for(_answer(1, complaint_id=uuid.uuid4()), policy) is None


def test_the_breach_that_reaches_the_threshold_raises_one_entry() -> None:
    policy = IntakePolicy(sla_breach_threshold=3)
    assert [breach_proposal("svc", "2026-12", n, policy) is not None for n in (1, 2, 3, 4)] == [
        False,
        False,
        True,
        False,
    ]
    p = breach_proposal("svc", month_of(NOW), 3, policy)
    assert p is not None and p.source_ref == "svc/2026-12"
    assert due_date(NOW, IntakePolicy(target_days=30)) == date(2027, 1, 6)


def test_the_policy_refuses_values_out_of_range() -> None:
    with pytest.raises(RuleViolation) as bad:
        IntakePolicy(sla_breach_threshold=0, low_score_max=6, default_owner="", target_days=0)
    assert len(bad.value.extensions["errors"]) == 4
