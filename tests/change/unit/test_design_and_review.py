"""Clause 5 (design and transition before approval, go-live before close) and the
post-implementation review, as domain rules (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.change.domain.cab import Risk
from services.change.domain.changes import Change, ChangeStatus, ChangeType, IncidentLink
from services.change.domain.design import DesignRecord, ServiceLevelTarget, ServiceTransition, design_record
from services.change.domain.risk import ImpactFacts, RiskFacts, assess_risk
from shared.errors import Conflict, RuleViolation

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)
MANAGER = frozenset({"change_manager"})


def change(kind: ChangeType = ChangeType.NORMAL, **overrides: object) -> Change:
    values: dict[str, object] = {
        "change_id": uuid4(),
        "number": "CHG0000001",
        "title": "Move payroll to the new provider",
        "description": "",
        "justification": "contract ends",
        "change_type": kind,
        "category": None,
        "requester": "rita",
        "planned_start": NOW + timedelta(days=1),
        "planned_end": NOW + timedelta(days=1, hours=2),
        "affected_ci_ids": [],
        "now": NOW,
    }
    values.update(overrides)
    item = Change.draft(**values)  # type: ignore[arg-type]
    item.pending_events.clear()
    return item


def assessed(**overrides: object) -> Change:
    item = change(**overrides)
    item.submit("rita", NOW)
    item.assess(Risk.LOW, "ann", NOW)
    return item


def full_design() -> DesignRecord:
    return design_record(
        requirements="Payroll runs monthly for 4,000 staff",
        acceptance_criteria=["a test payroll matches last month's to the cent"],
        service_level_targets=[ServiceLevelTarget("availability", "99.9 % in business hours")],
        capacity="4,000 payslips in under an hour",
        by="rita",
        now=NOW,
    )


@pytest.mark.parametrize(
    "flags",
    [{"major": True}, *({"service_transition": t} for t in ServiceTransition)],
)
def test_a_major_or_service_level_change_is_not_approved_without_its_design_record(flags: dict[str, object]) -> None:
    item = assessed(**flags)
    assert item.needs_design()
    with pytest.raises(Conflict) as caught:
        item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    assert caught.value.extensions["missing"] == [
        "requirements",
        "acceptance_criteria",
        "service_level_targets",
        "capacity",
    ]
    assert item.status is ChangeStatus.ASSESSED and item.votes == ()


def test_a_partial_design_record_names_what_is_missing_and_a_full_one_lets_it_be_approved() -> None:
    item = assessed(major=True)
    partial = design_record(
        requirements="r", acceptance_criteria=["  "], service_level_targets=[], capacity="c", by="rita", now=NOW
    )
    item.record_design(partial, NOW)
    with pytest.raises(Conflict) as caught:
        item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    assert caught.value.extensions["missing"] == ["acceptance_criteria", "service_level_targets"]
    item.record_design(full_design(), NOW)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    assert item.status is ChangeStatus.APPROVED


def test_a_rejection_needs_no_design_record_and_an_ordinary_change_needs_none() -> None:
    item = assessed(major=True)
    item.decide(approve=False, voter="mike", roles=MANAGER, comment="not now", now=NOW)
    assert item.status is ChangeStatus.REJECTED
    ordinary = assessed()
    assert not ordinary.needs_design() and ordinary.design_missing() == []
    ordinary.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)


def test_the_design_record_is_settled_once_the_change_is_decided() -> None:
    item = assessed(major=True)
    item.record_design(full_design(), NOW)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    with pytest.raises(Conflict):
        item.record_design(full_design(), NOW)


def test_a_standard_change_cannot_be_major() -> None:
    with pytest.raises(RuleViolation) as caught:
        change(ChangeType.STANDARD, major=True)
    assert caught.value.extensions["errors"][0]["field"] == "type"


def implemented(**overrides: object) -> Change:
    item = assessed(**overrides)
    if item.needs_design():
        item.record_design(full_design(), NOW)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    item.schedule("mike", NOW)
    item.start("mike", NOW)
    item.complete("mike", NOW)
    return item


def test_go_live_acceptance_is_recorded_after_implementation_and_before_close() -> None:
    item = implemented(service_transition=ServiceTransition.SERVICE_TRANSFER)
    item.review("transferred", "mike", NOW, lessons="start the data export earlier")
    with pytest.raises(Conflict) as caught:
        item.close("mike", NOW)
    assert caught.value.extensions["missing"] == ["go_live_acceptance"]
    with pytest.raises(RuleViolation):
        item.accept_go_live(accepted=False, comment="", actor="mike", now=NOW)  # a refusal says why
    item.accept_go_live(accepted=True, comment="criteria met", actor="mike", now=NOW)
    assert item.design is not None and item.design.go_live is not None and item.design.go_live.by == "mike"
    with pytest.raises(Conflict):
        item.accept_go_live(accepted=True, comment="again", actor="mike", now=NOW)
    item.close("mike", NOW)
    assert item.status is ChangeStatus.CLOSED
    assert item.pending_events[-1].detail["go_live_accepted"] is True


def test_go_live_acceptance_waits_for_implementation() -> None:
    item = assessed(major=True)
    item.record_design(full_design(), NOW)
    with pytest.raises(Conflict):
        item.accept_go_live(accepted=True, comment="", actor="mike", now=NOW)


def test_an_emergency_change_is_reviewed_with_its_lessons_and_the_incidents_it_caused() -> None:
    item = implemented(change_type=ChangeType.EMERGENCY)
    with pytest.raises(Conflict):
        item.close("mike", NOW)  # implemented: only the review comes next
    with pytest.raises(RuleViolation) as caught:
        item.review("worked", "mike", NOW)
    assert caught.value.extensions["errors"][0]["field"] == "lessons"
    incident = IncidentLink(uuid4(), "INC0000007", "probable_cause", None, NOW)
    item.incidents = (incident,)
    item.review("worked, one incident", "mike", NOW, lessons="test the failover first", objectives_met=True)
    assert item.pir is not None
    assert item.pir.incident_ids == (incident.incident_id,)
    assert item.pending_events[-1].detail["incident_ids"] == [incident.incident_id]


def test_an_ordinary_change_is_reviewed_without_lessons_and_a_failed_one_with_them() -> None:
    implemented().review("fine", "mike", NOW)
    item = assessed()
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    item.schedule("mike", NOW)
    item.start("mike", NOW)
    item.fail("disk full", "mike", NOW, backed_out=False)
    assert item.backed_out is False
    with pytest.raises(RuleViolation):
        item.review("failed", "mike", NOW)


def test_no_back_out_plan_and_schedule_conflicts_add_to_the_risk() -> None:
    quiet = ImpactFacts(0, 0, 4)
    base = RiskFacts(change_type=ChangeType.NORMAL, affected_cis=1, impact=quiet)
    assert assess_risk(base).score == 0
    no_plan = assess_risk(
        RiskFacts(change_type=ChangeType.NORMAL, affected_cis=1, impact=quiet, has_backout_plan=False)
    )
    assert (no_plan.score, no_plan.reasons) == (15, ["+15 no back-out plan"])
    crowded = assess_risk(
        RiskFacts(
            change_type=ChangeType.NORMAL,
            affected_cis=1,
            impact=quiet,
            schedule_conflicts=(("same_ci", "CHG2"), ("blackout", "freeze"), ("dependent_ci", "CHG3")),
        )
    )
    # 10 + 20, then capped at 30: the third conflict is named but adds nothing.
    assert crowded.score == 30 and crowded.risk is Risk.MEDIUM
    assert crowded.reasons == [
        "+10 schedule conflict: same ci (CHG2)",
        "+20 schedule conflict: blackout (freeze)",
        "schedule conflict: dependent ci (CHG3)",
    ]
