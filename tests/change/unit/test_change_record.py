"""A change's record read back: what drafting keeps, what each step records (status, version,
time, actor, event), who may decide it, the CAB vote below the quorum, and the refusals with
their fields (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.change.domain.cab import CAB_QUORUM, Risk, Vote
from services.change.domain.changes import (
    Action,
    Change,
    ChangeDrafted,
    ChangeStatus,
    ChangeType,
    CmdbOutcome,
    IncidentLink,
    PostImplementationReview,
    StatusChanged,
    as_utc,
)
from shared.errors import Conflict, DomainError, Forbidden, InvalidTransition, RuleViolation

T0 = datetime(2026, 11, 28, 9, tzinfo=UTC)
CHANGE_ID = UUID(int=7)
MANAGER = frozenset({"change_manager"})
CAB = frozenset({"cab_member"})
ADMIN = frozenset({"admin"})


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def draft(kind: ChangeType = ChangeType.NORMAL, **overrides: Any) -> Change:
    values: dict[str, Any] = {
        "change_id": CHANGE_ID,
        "number": "CHG0000042",
        "title": "Patch the mail relays",
        "description": "CVE fix on both relays",
        "justification": "security fix",
        "change_type": kind,
        "category": "software",
        "requester": "rita",
        "planned_start": T0 + timedelta(days=1),
        "planned_end": T0 + timedelta(days=1, hours=2),
        "affected_ci_ids": [],
        "now": T0,
    }
    values.update(overrides)
    return Change.draft(**values)


def assessed(risk: Risk = Risk.LOW, kind: ChangeType = ChangeType.NORMAL, **overrides: Any) -> Change:
    item = draft(kind, **overrides)
    item.submit("rita", T0)
    item.assess(risk, "ann", T0)
    item.pending_events.clear()
    return item


def implementing(**overrides: Any) -> Change:
    item = assessed(**overrides)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=T0)
    item.schedule("mike", T0)
    item.start("mike", T0)
    item.pending_events.clear()
    return item


def last_event(item: Change) -> StatusChanged:
    event = item.pending_events[-1]
    assert isinstance(event, StatusChanged)
    return event


def explained(error: DomainError) -> str:
    """The refusal tells a person why, in words."""
    assert isinstance(error.detail, str) and error.detail
    return error.detail


def refused_field(refused: pytest.ExceptionInfo[RuleViolation]) -> str:
    explained(refused.value)
    (error,) = refused.value.extensions["errors"]
    assert error["reason"] == refused.value.detail
    return str(error["field"])


# ------------------------------------------------------------------------------------------- drafting


def test_drafting_keeps_every_field_given() -> None:
    ci_a, ci_b, svc_a, svc_b, template = UUID(int=1), UUID(int=2), UUID(int=11), UUID(int=12), uuid4()
    planned = ({"action": "update", "ci_id": str(ci_a)},)
    item = draft(
        ChangeType.STANDARD,
        affected_ci_ids=[ci_b, ci_a, ci_b],
        planned_ci_changes=list(planned),
        service_ids=[svc_b, svc_a, svc_b],
        template_id=template,
        implementation_plan="run the playbook",
        backout_plan="restore the snapshot",
        test_plan="send a test mail",
    )
    assert (item.id, item.number, item.description, item.category) == (
        CHANGE_ID,
        "CHG0000042",
        "CVE fix on both relays",
        "software",
    )
    assert (item.justification, item.requester, item.change_type) == ("security fix", "rita", ChangeType.STANDARD)
    assert item.affected_ci_ids == (ci_a, ci_b)
    assert item.service_ids == (svc_a, svc_b)
    assert item.planned_ci_changes == planned
    assert item.template_id == template
    assert (item.implementation_plan, item.backout_plan, item.test_plan) == (
        "run the playbook",
        "restore the snapshot",
        "send a test mail",
    )
    assert item.pending_events == [ChangeDrafted(CHANGE_ID)]


def test_a_change_drafted_without_plans_has_empty_plans_and_no_planned_ci_changes() -> None:
    item = draft()
    assert (item.implementation_plan, item.backout_plan, item.test_plan) == ("", "", "")
    assert item.planned_ci_changes == () and item.service_ids == () and item.template_id is None
    assert (item.risk, item.risk_reasons, item.votes, item.pir, item.major) == (None, (), (), None, False)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"change_type": ChangeType.STANDARD, "major": True}, "type"),
        ({"change_type": ChangeType.EMERGENCY, "justification": " "}, "justification"),
        ({"planned_end": T0 + timedelta(days=1)}, "planned_end"),
        ({"template_id": uuid4()}, "type"),  # a normal change from a template
        ({"planned_start": datetime(2026, 12, 1, 22)}, "planned_start"),
    ],
)
def test_a_draft_that_breaks_a_rule_is_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        draft(**overrides)
    assert refused_field(refused) == field


class NoOffset(tzinfo):
    """A zone that cannot say its offset: the time is as good as naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_a_time_whose_zone_gives_no_offset_is_refused_like_a_naive_one() -> None:
    with pytest.raises(RuleViolation) as refused:
        as_utc(datetime(2026, 12, 1, 22, tzinfo=NoOffset()), "planned_start")
    assert refused_field(refused) == "planned_start"
    assert as_utc(datetime(2026, 12, 1, 23, tzinfo=timezone(timedelta(hours=1))), "x") == datetime(
        2026, 12, 1, 22, tzinfo=UTC
    )


# ------------------------------------------------------------------------------- each step, read back


def test_each_step_records_its_time_actor_and_event_and_adds_one_version() -> None:
    item = draft()
    item.pending_events.clear()
    steps: list[tuple[str, Any, ChangeStatus, dict[str, Any]]] = [
        ("sam", lambda who, now: item.submit(who, now), ChangeStatus.SUBMITTED, {}),
        ("ann", lambda who, now: item.assess(Risk.MEDIUM, who, now, ["a"]), ChangeStatus.ASSESSED, {"risk": "medium"}),
        (
            "mike",
            lambda who, now: item.decide(approve=True, voter=who, roles=MANAGER, comment="ok", now=now),
            ChangeStatus.APPROVED,
            {},
        ),
        ("sol", lambda who, now: item.schedule(who, now), ChangeStatus.SCHEDULED, {}),
        ("ivo", lambda who, now: item.start(who, now), ChangeStatus.IMPLEMENTING, {}),
        ("ivy", lambda who, now: item.complete(who, now), ChangeStatus.IMPLEMENTED, {}),
        (
            "rev",
            lambda who, now: item.review("went fine", who, now),
            ChangeStatus.REVIEWED,
            {"outcome": "went fine", "lessons": "", "objectives_met": None, "incident_ids": []},
        ),
        ("cal", lambda who, now: item.close(who, now), ChangeStatus.CLOSED, {"go_live_accepted": None}),
    ]
    actions = [Action.SUBMIT, Action.ASSESS, Action.APPROVE, Action.SCHEDULE, Action.START]
    actions += [Action.COMPLETE, Action.REVIEW, Action.CLOSE]
    previous = ChangeStatus.DRAFT
    for minute, ((actor, step, status, detail), action) in enumerate(zip(steps, actions, strict=True), start=1):
        step(actor, at(minute))
        assert (item.status, item.version, item.updated_at) == (status, 1 + minute, at(minute))
        assert item.pending_events[-1] == StatusChanged(CHANGE_ID, action, previous, status, actor, detail)
        previous = status
    assert item.created_at == T0


def test_cancelling_records_who_and_when() -> None:
    item = draft()
    item.cancel("rita", at(5))
    assert (item.status, item.version, item.updated_at) == (ChangeStatus.CANCELLED, 2, at(5))
    assert last_event(item) == StatusChanged(
        CHANGE_ID, Action.CANCEL, ChangeStatus.DRAFT, ChangeStatus.CANCELLED, "rita"
    )
    assert item.allowed_actions() == []


def test_assessing_keeps_the_risk_and_its_reasons() -> None:
    item = draft()
    item.submit("rita", T0)
    item.assess(Risk.HIGH, "ann", at(1), reasons=iter(["+25 a critical CI is affected", "+30 two services"]))
    assert item.risk is Risk.HIGH
    assert item.risk_reasons == ("+25 a critical CI is affected", "+30 two services")


def test_a_standard_change_from_its_template_is_approved_on_submit_by_its_requester() -> None:
    item = draft(ChangeType.STANDARD, template_id=uuid4())
    item.pending_events.clear()
    item.submit("rita", at(3), pre_approved=True)
    assert item.pending_events == [
        StatusChanged(CHANGE_ID, Action.SUBMIT, ChangeStatus.DRAFT, ChangeStatus.SUBMITTED, "rita"),
        StatusChanged(CHANGE_ID, Action.APPROVE, ChangeStatus.SUBMITTED, ChangeStatus.APPROVED, "rita"),
    ]
    assert (item.status, item.version, item.updated_at) == (ChangeStatus.APPROVED, 2, at(3))


def test_an_action_the_status_does_not_allow_is_refused_with_the_state_and_what_is_allowed() -> None:
    item = draft()
    with pytest.raises(InvalidTransition) as refused:
        item.complete("mike", T0)
    assert refused.value.extensions == {"state": "draft", "allowed_actions": ["cancel", "submit"]}
    with pytest.raises(InvalidTransition) as undecidable:
        item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=T0)
    assert undecidable.value.extensions == {"state": "draft", "allowed_actions": ["cancel", "submit"]}
    assert (item.status, item.version, item.votes) == (ChangeStatus.DRAFT, 1, ())


# ------------------------------------------------------------------------------------- the decision


def test_an_approval_records_the_vote_with_its_time_and_the_approver_on_the_event() -> None:
    item = assessed()
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="go", now=at(4))
    assert item.votes == (Vote("mike", True, "go", at(4)),)
    assert last_event(item) == StatusChanged(
        CHANGE_ID, Action.APPROVE, ChangeStatus.ASSESSED, ChangeStatus.APPROVED, "mike"
    )
    assert (item.version, item.updated_at) == (4, at(4))


def test_a_rejection_records_the_rejecter_and_the_reason() -> None:
    item = assessed()
    item.decide(approve=False, voter="mike", roles=MANAGER, comment="no back-out plan", now=at(4))
    assert last_event(item) == StatusChanged(
        CHANGE_ID, Action.REJECT, ChangeStatus.ASSESSED, ChangeStatus.REJECTED, "mike", {"reason": "no back-out plan"}
    )
    assert (item.status, item.version, item.updated_at) == (ChangeStatus.REJECTED, 4, at(4))
    assert item.votes == (Vote("mike", False, "no back-out plan", at(4)),)


def test_a_cab_vote_below_the_quorum_is_recorded_and_the_change_waits() -> None:
    assert CAB_QUORUM == 2  # one approving vote is below it
    item = assessed(Risk.HIGH)
    item.decide(approve=True, voter="carl", roles=CAB, comment="fine", now=at(6))
    assert item.status is ChangeStatus.ASSESSED
    assert (item.version, item.updated_at) == (4, at(6))
    assert item.votes == (Vote("carl", True, "fine", at(6)),)
    assert item.pending_events == []  # no status moved
    item.decide(approve=True, voter="cleo", roles=CAB, comment="", now=at(7))
    assert (item.status, item.version, item.updated_at) == (ChangeStatus.APPROVED, 5, at(7))
    assert last_event(item).actor == "cleo"


def test_a_second_vote_by_the_same_member_is_refused_naming_the_change() -> None:
    item = assessed(Risk.HIGH)
    item.decide(approve=True, voter="carl", roles=CAB, comment="", now=at(1))
    with pytest.raises(Conflict) as refused:
        item.decide(approve=True, voter="carl", roles=CAB, comment="", now=at(2))
    assert "carl" in explained(refused.value) and "CHG0000042" in refused.value.detail
    assert (item.version, len(item.votes)) == (4, 1)


@pytest.mark.parametrize(
    ("risk", "kind", "roles"),
    [
        (Risk.HIGH, ChangeType.NORMAL, ADMIN),  # a CAB decision, taken by an admin without the CAB role
        (Risk.LOW, ChangeType.NORMAL, ADMIN),  # a change manager's decision, taken by an admin
        (Risk.HIGH, ChangeType.EMERGENCY, MANAGER),
    ],
)
def test_an_admin_may_decide_any_change_and_an_emergency_needs_only_a_manager(
    risk: Risk, kind: ChangeType, roles: frozenset[str]
) -> None:
    item = assessed(risk, kind)
    item.decide(approve=False, voter="ada", roles=roles, comment="not this week", now=T0)
    assert item.status is ChangeStatus.REJECTED


@pytest.mark.parametrize(
    ("risk", "voter", "roles"),
    [
        (Risk.LOW, "rita", frozenset({"change_manager", "admin"})),  # the requester herself
        (Risk.HIGH, "mike", MANAGER),  # a CAB decision needs a CAB member
        (Risk.LOW, "carl", CAB),  # a manager's decision is not the CAB's
    ],
)
def test_who_may_not_decide_is_refused_and_nothing_is_recorded(risk: Risk, voter: str, roles: frozenset[str]) -> None:
    item = assessed(risk)
    with pytest.raises(Forbidden) as refused:
        item.decide(approve=True, voter=voter, roles=roles, comment="", now=T0)
    explained(refused.value)
    assert (item.status, item.version, item.votes) == (ChangeStatus.ASSESSED, 3, ())


def test_an_approval_without_the_design_record_is_refused_naming_the_change() -> None:
    item = assessed(major=True)
    with pytest.raises(Conflict) as refused:
        item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=T0)
    assert "CHG0000042" in explained(refused.value)


# ----------------------------------------------------------------------------- schedule, fail, review


def test_a_schedule_with_refusals_is_refused_listing_them() -> None:
    item = assessed()
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=T0)
    with pytest.raises(Conflict) as refused:
        item.schedule("mike", at(1), refusals=iter(["blackout 'freeze'", "blackout 'audit'"]))
    assert refused.value.extensions == {"refusals": ["blackout 'freeze'", "blackout 'audit'"]}
    assert "CHG0000042" in explained(refused.value)
    assert item.status is ChangeStatus.APPROVED


@pytest.mark.parametrize("missing", ["planned_start", "planned_end"])
def test_a_change_without_either_end_of_its_window_is_not_scheduled(missing: str) -> None:
    unset: dict[str, Any] = {missing: None}
    item = assessed(**unset)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=T0)
    with pytest.raises(RuleViolation) as refused:
        item.schedule("mike", T0)
    assert refused_field(refused) == "planned_start"
    assert item.status is ChangeStatus.APPROVED


def test_completing_with_planned_ci_changes_waits_for_the_cmdb_and_without_them_it_does_not() -> None:
    with_ci_changes = implementing(planned_ci_changes=[{"action": "retire", "ci_id": str(uuid4())}])
    with_ci_changes.complete("mike", T0)
    assert with_ci_changes.cmdb_outcome is CmdbOutcome.PENDING
    without = implementing()
    without.complete("mike", T0)
    assert without.cmdb_outcome is CmdbOutcome.NONE


@pytest.mark.parametrize(("applied", "outcome"), [(True, CmdbOutcome.APPLIED), (False, CmdbOutcome.REJECTED)])
def test_the_cmdb_answer_is_recorded_with_a_new_version_and_time(applied: bool, outcome: CmdbOutcome) -> None:
    item = implementing(planned_ci_changes=[{"action": "retire"}])
    item.complete("mike", T0)
    version = item.version
    item.record_cmdb_outcome(applied, iter([{"index": 0, "reason": "x"}] if not applied else []), at(9))
    assert (item.cmdb_outcome, item.version, item.updated_at) == (outcome, version + 1, at(9))
    assert item.cmdb_errors == (() if applied else ({"index": 0, "reason": "x"},))


def test_a_failure_records_its_notes_time_and_back_out_and_is_backed_out_unless_said_otherwise() -> None:
    item = implementing()
    item.fail("timeout on node 2, rolled back", "ivo", at(8))
    assert (item.status, item.notes, item.failed_at, item.backed_out) == (
        ChangeStatus.FAILED,
        "timeout on node 2, rolled back",
        at(8),
        True,
    )
    assert last_event(item) == StatusChanged(
        CHANGE_ID,
        Action.FAIL,
        ChangeStatus.IMPLEMENTING,
        ChangeStatus.FAILED,
        "ivo",
        {"notes": "timeout on node 2, rolled back", "backed_out": True},
    )
    assert item.updated_at == at(8)
    kept = implementing()
    kept.fail("half done, left as is", "ivo", at(8), backed_out=False)
    assert last_event(kept).detail == {"notes": "half done, left as is", "backed_out": False}


def test_a_failure_without_notes_is_refused_naming_the_notes() -> None:
    item = implementing()
    with pytest.raises(RuleViolation) as refused:
        item.fail(" ", "ivo", T0)
    assert refused_field(refused) == "notes"
    assert item.status is ChangeStatus.IMPLEMENTING


def test_the_review_records_its_outcome_lessons_and_incidents_on_the_change_and_the_event() -> None:
    item = implementing(change_type=ChangeType.EMERGENCY)
    item.complete("ivo", T0)
    incident = IncidentLink(uuid4(), "INC0000007", "probable_cause", None, T0)
    item.incidents = (incident,)
    item.review("worked", "rev", at(10), lessons="test failover first", objectives_met=False)
    assert item.pir == PostImplementationReview(
        "worked", "test failover first", False, (incident.incident_id,), "rev", at(10)
    )
    assert item.notes == "worked"
    assert last_event(item) == StatusChanged(
        CHANGE_ID,
        Action.REVIEW,
        ChangeStatus.IMPLEMENTED,
        ChangeStatus.REVIEWED,
        "rev",
        {
            "outcome": "worked",
            "lessons": "test failover first",
            "objectives_met": False,
            "incident_ids": [incident.incident_id],
        },
    )
    assert item.updated_at == at(10)


def test_a_review_without_its_outcome_or_needed_lessons_is_refused_naming_the_field() -> None:
    item = implementing()
    item.complete("ivo", T0)
    with pytest.raises(RuleViolation) as no_outcome:
        item.review("  ", "rev", T0)
    assert refused_field(no_outcome) == "outcome"
    failed = implementing()
    failed.fail("disk full", "ivo", T0)
    with pytest.raises(RuleViolation) as no_lessons:
        failed.review("failed", "rev", T0, lessons=" ")
    assert refused_field(no_lessons) == "lessons"
    assert (item.status, failed.status) == (ChangeStatus.IMPLEMENTED, ChangeStatus.FAILED)


def test_closing_a_clause_five_change_without_go_live_is_refused_naming_the_change() -> None:
    item = assessed(major=True)
    item.major = False  # approved as an ordinary change, then flagged major before close
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=T0)
    item.schedule("mike", T0)
    item.start("mike", T0)
    item.complete("mike", T0)
    item.review("done", "rev", T0)
    item.major = True
    with pytest.raises(Conflict) as refused:
        item.close("cal", T0)
    assert "CHG0000042" in explained(refused.value)
    assert refused.value.extensions == {"missing": ["go_live_acceptance"]}
