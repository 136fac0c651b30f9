"""The change lifecycle as a state machine, separation of duties and the CAB quorum (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.change.domain.cab import CAB_QUORUM, Risk
from services.change.domain.changes import (
    FINAL,
    TRANSITIONS,
    Action,
    Change,
    ChangeStatus,
    ChangeType,
    CmdbOutcome,
    StatusChanged,
)
from shared.errors import Conflict, Forbidden, InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)
MANAGER = frozenset({"change_manager"})
CAB = frozenset({"cab_member"})


def change(kind: ChangeType = ChangeType.NORMAL, **overrides: object) -> Change:
    values: dict[str, object] = {
        "change_id": uuid4(),
        "number": "CHG0000001",
        "title": "Patch the mail relays",
        "description": "",
        "justification": "security fix",
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


def assessed(risk: Risk, kind: ChangeType = ChangeType.NORMAL) -> Change:
    item = change(kind)
    item.submit("rita", NOW)
    item.assess(risk, "ann", NOW)
    item.pending_events.clear()
    return item


def test_every_status_lists_its_actions_and_only_those_are_allowed() -> None:
    assert TRANSITIONS[ChangeStatus.DRAFT].keys() == {Action.SUBMIT, Action.CANCEL}
    assert TRANSITIONS[ChangeStatus.CLOSED] == {}
    item = change()
    with pytest.raises(InvalidTransition) as refused:
        item.start("mike", NOW)
    assert refused.value.extensions == {"state": "draft", "allowed_actions": ["cancel", "submit"]}


def test_the_normal_path_from_draft_to_closed() -> None:
    item = assessed(Risk.LOW)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="ok", now=NOW)
    item.schedule("mike", NOW)
    item.start("mike", NOW)
    item.complete("mike", NOW)
    item.review("went fine", "mike", NOW)
    item.close("mike", NOW)
    assert item.status is ChangeStatus.CLOSED
    assert [e.status for e in item.pending_events if isinstance(e, StatusChanged)] == [
        ChangeStatus.APPROVED,
        ChangeStatus.SCHEDULED,
        ChangeStatus.IMPLEMENTING,
        ChangeStatus.IMPLEMENTED,
        ChangeStatus.REVIEWED,
        ChangeStatus.CLOSED,
    ]


def test_nobody_approves_their_own_change() -> None:
    item = assessed(Risk.LOW)
    with pytest.raises(Forbidden, match="own change"):
        item.decide(approve=True, voter="rita", roles=frozenset({"change_manager", "admin"}), comment="", now=NOW)
    assert item.status is ChangeStatus.ASSESSED


def test_low_risk_needs_a_change_manager_not_a_cab_member() -> None:
    item = assessed(Risk.MEDIUM)
    with pytest.raises(Forbidden):
        item.decide(approve=True, voter="carl", roles=CAB, comment="", now=NOW)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    assert item.status is ChangeStatus.APPROVED


def test_a_high_risk_change_needs_the_cab_quorum_and_each_vote_is_kept() -> None:
    item = assessed(Risk.HIGH)
    with pytest.raises(Forbidden, match="CAB"):
        item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    item.decide(approve=True, voter="carl", roles=CAB, comment="fine by me", now=NOW)
    assert item.status is ChangeStatus.ASSESSED  # one vote of CAB_QUORUM
    with pytest.raises(Conflict):
        item.decide(approve=True, voter="carl", roles=CAB, comment="again", now=NOW)
    for voter in [f"cab{i}" for i in range(CAB_QUORUM - 1)]:
        item.decide(approve=True, voter=voter, roles=CAB, comment="", now=NOW)
    assert item.status is ChangeStatus.APPROVED
    assert [v.voter for v in item.votes] == ["carl", *(f"cab{i}" for i in range(CAB_QUORUM - 1))]
    assert item.votes[0].comment == "fine by me"


def test_one_cab_rejection_rejects() -> None:
    item = assessed(Risk.HIGH)
    item.decide(approve=True, voter="carl", roles=CAB, comment="", now=NOW)
    item.decide(approve=False, voter="cleo", roles=CAB, comment="no back-out plan", now=NOW)
    assert item.status is ChangeStatus.REJECTED
    assert item.pending_events[-1].detail == {"reason": "no back-out plan"}  # type: ignore[union-attr]


def test_an_emergency_change_has_one_approver_even_at_high_risk() -> None:
    item = assessed(Risk.HIGH, ChangeType.EMERGENCY)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="outage", now=NOW)
    assert item.status is ChangeStatus.APPROVED


def test_a_standard_change_without_a_template_does_not_approve_on_submit() -> None:
    untemplated = change(ChangeType.STANDARD)
    untemplated.submit("rita", NOW, pre_approved=True)
    unchecked = change(ChangeType.STANDARD, template_id=uuid4())
    unchecked.submit("rita", NOW)  # its template's scope not checked: not pre-approved
    assert untemplated.status is unchecked.status is ChangeStatus.SUBMITTED
    item = change(ChangeType.NORMAL)
    item.submit("rita", NOW, pre_approved=True)
    assert item.status is ChangeStatus.SUBMITTED


def test_a_high_risk_standard_change_without_a_template_goes_to_the_cab() -> None:
    item = assessed(Risk.HIGH, ChangeType.STANDARD)
    assert item.needs_cab()
    assert not assessed(Risk.MEDIUM, ChangeType.STANDARD).needs_cab()


def test_a_standard_change_from_its_template_is_approved_when_submitted() -> None:
    item = change(ChangeType.STANDARD, template_id=uuid4())
    item.submit("rita", NOW, pre_approved=True)
    assert item.status is ChangeStatus.APPROVED
    assert [e.status for e in item.pending_events] == [ChangeStatus.SUBMITTED, ChangeStatus.APPROVED]  # type: ignore[union-attr]


def test_scheduling_needs_the_window_and_failing_needs_notes() -> None:
    item = change(planned_start=None, planned_end=None)
    item.submit("rita", NOW)
    item.assess(Risk.LOW, "ann", NOW)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    with pytest.raises(RuleViolation, match="planned window"):
        item.schedule("mike", NOW)
    ready = assessed(Risk.LOW)
    ready.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    ready.schedule("mike", NOW)
    ready.start("mike", NOW)
    with pytest.raises(RuleViolation):
        ready.fail("  ", "mike", NOW)
    ready.fail("timeout on node 2, rolled back", "mike", NOW)
    assert ready.status is ChangeStatus.FAILED
    with pytest.raises(InvalidTransition):
        ready.close("mike", NOW)  # a failed change is reviewed before it closes


def test_the_cmdb_outcome_is_pending_until_config_answers() -> None:
    item = assessed(Risk.LOW)
    item.planned_ci_changes = ({"action": "retire", "ci_id": str(uuid4())},)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    item.schedule("mike", NOW)
    item.start("mike", NOW)
    item.complete("mike", NOW)
    assert item.cmdb_outcome is CmdbOutcome.PENDING
    item.record_cmdb_outcome(False, [{"index": 0, "reason": "CI not found"}], NOW)
    assert item.cmdb_outcome is CmdbOutcome.REJECTED
    assert item.cmdb_errors == ({"index": 0, "reason": "CI not found"},)


@pytest.mark.parametrize("kind", [ChangeType.NORMAL, ChangeType.EMERGENCY, ChangeType.STANDARD])
@pytest.mark.parametrize("risk", [Risk.LOW, Risk.MEDIUM])
def test_whoever_set_the_risk_is_not_the_only_approver(kind: ChangeType, risk: Risk) -> None:
    item = assessed(risk, kind)
    assert (item.requester, item.assessed_by, item.risk_set_by) == ("rita", "ann", "ann")
    with pytest.raises(Forbidden) as refused:
        item.decide(approve=True, voter="ann", roles=MANAGER, comment="", now=NOW)
    assert str(refused.value) == (
        "ann set the risk of CHG0000001: another change manager approves it (separation of duties)"
    )
    assert (item.status, item.votes, item.version) == (ChangeStatus.ASSESSED, (), 3)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    assert item.status is ChangeStatus.APPROVED


def test_whoever_set_the_risk_may_reject_or_be_one_of_the_cab_quorum() -> None:
    rejected = assessed(Risk.LOW)
    rejected.decide(approve=False, voter="ann", roles=MANAGER, comment="no", now=NOW)
    assert rejected.status is ChangeStatus.REJECTED
    high = assessed(Risk.HIGH)
    high.decide(approve=True, voter="ann", roles=CAB, comment="", now=NOW)
    high.decide(approve=True, voter="carl", roles=CAB, comment="", now=NOW)
    assert high.status is ChangeStatus.APPROVED


def test_a_computed_risk_leaves_its_assessor_free_to_approve() -> None:
    item = change()
    item.submit("rita", NOW)
    item.assess(Risk.LOW, "mike", NOW, ["score 10"], computed=True)
    assert (item.assessed_by, item.risk_set_by) == ("mike", None)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=NOW)
    assert item.status is ChangeStatus.APPROVED


def test_closed_at_is_when_a_change_reached_a_final_status_and_only_then() -> None:
    """Its retention period (4.3.3) counts from here: closed or cancelled, not failed or reviewed."""
    assert {ChangeStatus.CLOSED, ChangeStatus.CANCELLED} == FINAL
    item = assessed(Risk.LOW)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="ok", now=NOW)
    item.schedule("mike", NOW)
    item.start("mike", NOW)
    item.fail("the relays did not come back", "mike", NOW + timedelta(hours=1))
    assert item.closed_at is None  # failed: to be reviewed, then closed
    item.review("rolled back", "mike", NOW + timedelta(hours=2), lessons="test the failover first")
    assert item.closed_at is None
    item.close("mike", NOW + timedelta(hours=3))
    assert item.closed_at == NOW + timedelta(hours=3)
    cancelled = change()
    cancelled.cancel("rita", NOW + timedelta(hours=1))
    assert (cancelled.status, cancelled.closed_at) == (ChangeStatus.CANCELLED, NOW + timedelta(hours=1))
