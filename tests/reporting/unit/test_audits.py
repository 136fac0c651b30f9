"""Internal audits and management reviews as pure rules: the audit's lifecycle table, a nonconformity
needing a corrective action, closing only when every corrective action is settled, one register
entry per finding, an auditor not auditing their own work, the stored JSON read back; a management
review goes through at least one report run, each once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from services.reporting.domain.audits import (
    TRANSITIONS,
    AuditAction,
    AuditProgramme,
    AuditStatus,
    Finding,
    FindingKind,
    InternalAudit,
    findings_json,
    findings_of,
)
from services.reporting.domain.management_reviews import ManagementReview, RunInput, inputs_json, inputs_of
from services.reporting.domain.service_reviews import ReviewAction
from shared.errors import InvalidTransition, RuleViolation

NOW = datetime(2027, 3, 10, 9, tzinfo=UTC)
A, S = AuditAction, AuditStatus
ACTION = ReviewAction("Record ECAB decisions", "mike", date(2027, 4, 30))
MINOR = Finding(FindingKind.MINOR_NONCONFORMITY, "9.2", "No CAB record", ACTION)


def audit(**changes: object) -> InternalAudit:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "number": "AUD0000001",
        "programme_id": uuid.uuid4(),
        "title": "Change management",
        "scope": "",
        "lead_auditor": "quinn",
        "auditees": ("mike",),
        "planned_on": date(2027, 3, 10),
        "status": S.IN_PROGRESS,
        "findings": (),
        "summary": "",
        "created_by": "sally",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return InternalAudit(**values)  # type: ignore[arg-type]


def test_every_status_is_in_the_table() -> None:
    assert set(TRANSITIONS) == set(AuditStatus)
    assert TRANSITIONS[S.CLOSED] == {} and TRANSITIONS[S.CANCELLED] == {}


def test_a_planned_audit_takes_no_finding_and_names_what_it_allows() -> None:
    with pytest.raises(InvalidTransition) as refused:
        audit(status=S.PLANNED).finding_added(MINOR, NOW)
    assert refused.value.extensions["allowed_actions"] == ["cancel", "start"]


def test_a_nonconformity_needs_a_corrective_action_an_observation_does_not() -> None:
    with pytest.raises(RuleViolation) as bare:
        audit().finding_added(Finding(FindingKind.MAJOR_NONCONFORMITY, "8.1", "x"), NOW)
    assert bare.value.extensions["errors"][0]["field"] == "corrective_action"
    noted = audit().finding_added(Finding(FindingKind.OBSERVATION, "8.1", "x"), NOW)
    assert len(noted.findings) == 1 and noted.version == 2


def test_the_audit_closes_only_once_every_corrective_action_is_settled() -> None:
    found = audit().finding_added(MINOR, NOW)
    with pytest.raises(RuleViolation):
        found.acted(A.REPORT, NOW)  # no summary
    reported = found.acted(A.REPORT, NOW, summary="One minor nonconformity")
    with pytest.raises(InvalidTransition) as open_action:
        reported.acted(A.CLOSE, NOW)
    assert "[0]" in str(open_action.value)
    settled = reported.corrective_action_moved(0, "done", NOW)
    assert settled.acted(A.CLOSE, NOW).status is S.CLOSED


def test_a_finding_raises_one_register_entry_and_is_named_by_audit_and_position() -> None:
    found = audit().finding_added(MINOR, NOW)
    assert found.finding_ref(0) == "AUD0000001/1"
    linked = found.improvement_linked(0, "IMP0000009", NOW)
    assert linked.findings[0].improvement_number == "IMP0000009"
    with pytest.raises(RuleViolation):
        linked.improvement_linked(0, "IMP0000010", NOW)
    with pytest.raises(RuleViolation):
        linked.finding_ref(1)


def test_an_auditor_does_not_audit_their_own_work_and_programmes_keep_their_period() -> None:
    with pytest.raises(RuleViolation):
        audit(auditees=("quinn",))
    with pytest.raises(RuleViolation):
        AuditProgramme(uuid.uuid4(), "2027", date(2027, 12, 31), date(2027, 1, 1), "", "", "sally", "sally", NOW)


def test_findings_and_inputs_read_back_as_stored() -> None:
    findings = (MINOR, Finding(FindingKind.OPPORTUNITY, "4.5", "Automate", None, "IMP0000001"))
    assert findings_of(findings_json(findings)) == findings
    inputs = (RunInput(uuid.uuid4(), "service-levels", NOW, NOW, "ab" * 32, {"breaches": 4}),)
    assert inputs_of(inputs_json(inputs)) == inputs


def test_a_management_review_goes_through_report_runs_each_once() -> None:
    run = RunInput(uuid.uuid4(), "service-levels", NOW, NOW, None, {})
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "title": "MR",
        "held_on": date(2027, 7, 1),
        "chair": "coo",
        "attendees": ("coo",),
        "audit_ids": (),
        "improvements_by_status": {},
        "conclusions": "",
        "decisions": (),
        "actions": (ACTION,),
        "recorded_by": "sally",
        "recorded_at": NOW,
        "updated_at": NOW,
    }
    for inputs in ((), (run, run)):
        with pytest.raises(RuleViolation) as refused:
            ManagementReview(inputs=inputs, **values)  # type: ignore[arg-type]
        assert refused.value.extensions["errors"][0]["field"] == "report_run_ids"
    review = ManagementReview(inputs=(run,), **values)  # type: ignore[arg-type]
    assert review.action_moved(0, "done", NOW).actions[0].status == "done"
