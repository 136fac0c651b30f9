"""The design and transition record and the go-live acceptance read back: what is kept, the version
and time each write records, and the refusals with their state or field (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.change.domain.cab import Risk
from services.change.domain.changes import Change, ChangeType
from services.change.domain.design import DesignRecord, GoLiveAcceptance, ServiceLevelTarget, design_record
from shared.errors import Conflict, DomainError, RuleViolation

T0 = datetime(2026, 11, 28, 9, tzinfo=UTC)
MANAGER = frozenset({"change_manager"})


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def explained(error: DomainError) -> str:
    assert isinstance(error.detail, str) and error.detail
    return error.detail


def refused_field(refused: pytest.ExceptionInfo[RuleViolation]) -> str:
    explained(refused.value)
    (error,) = refused.value.extensions["errors"]
    return str(error["field"])


def record(by: str = "rita", now: datetime = T0, **overrides: object) -> DesignRecord:
    values: dict[str, object] = {
        "requirements": " Payroll for 4,000 staff ",
        "acceptance_criteria": [" a test payroll matches ", "  "],
        "service_level_targets": [ServiceLevelTarget("availability", "99.9 %")],
        "capacity": " 4,000 payslips an hour ",
        "by": by,
        "now": now,
        **overrides,
    }
    return design_record(**values)  # type: ignore[arg-type]


def major_change(**overrides: object) -> Change:
    item = Change.draft(
        change_id=uuid4(),
        number="CHG0000042",
        title="Move payroll",
        description="",
        justification="",
        change_type=ChangeType.NORMAL,
        category=None,
        requester="rita",
        planned_start=T0 + timedelta(days=1),
        planned_end=T0 + timedelta(days=1, hours=2),
        affected_ci_ids=[],
        now=T0,
        major=True,
    )
    item.submit("rita", T0)
    item.assess(Risk.LOW, "ann", T0)
    return item


def implemented() -> Change:
    item = major_change()
    item.record_design(record(), T0)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=T0)
    item.schedule("mike", T0)
    item.start("mike", T0)
    item.complete("mike", T0)
    return item


def test_a_design_record_keeps_its_parts_trimmed_with_who_wrote_it_and_when() -> None:
    go_live = GoLiveAcceptance(True, "mike", T0, "met")
    made = design_record(
        requirements=" Payroll for 4,000 staff ",
        acceptance_criteria=[" a test payroll matches ", "  "],
        service_level_targets=iter([ServiceLevelTarget("availability", "99.9 %")]),
        capacity=" 4,000 payslips an hour ",
        by="rita",
        now=at(3),
        go_live=go_live,
    )
    assert made.requirements == "Payroll for 4,000 staff"
    assert made.acceptance_criteria == ("a test payroll matches",)
    assert made.service_level_targets == (ServiceLevelTarget("availability", "99.9 %"),)
    assert made.capacity == "4,000 payslips an hour"
    assert (made.updated_by, made.updated_at, made.go_live) == ("rita", at(3), go_live)
    assert made.missing() == []


@pytest.mark.parametrize(
    "bad", [ServiceLevelTarget("availability", "  "), ServiceLevelTarget(" ", "99.9 %"), ServiceLevelTarget("", "")]
)
def test_a_service_level_target_without_its_metric_or_its_target_is_refused_at_its_index(
    bad: ServiceLevelTarget,
) -> None:
    with pytest.raises(RuleViolation) as refused:
        record(service_level_targets=[ServiceLevelTarget("latency", "200 ms"), bad])
    assert refused_field(refused) == "service_level_targets.1"


def test_writing_the_design_record_adds_a_version_and_records_the_time() -> None:
    item = major_change()
    version = item.version
    written = record(by="rita", now=at(2))
    item.record_design(written, at(5))
    assert (item.design, item.version, item.updated_at) == (written, version + 1, at(5))


def test_the_settled_design_record_is_refused_with_the_state() -> None:
    item = major_change()
    item.record_design(record(), T0)
    item.decide(approve=True, voter="mike", roles=MANAGER, comment="", now=T0)
    version = item.version
    with pytest.raises(Conflict) as refused:
        item.record_design(record(), at(1))
    assert "CHG0000042" in explained(refused.value)
    assert refused.value.extensions == {"state": "approved"}
    assert item.version == version


def test_go_live_acceptance_records_the_decision_who_when_and_why_with_a_new_version() -> None:
    item = implemented()
    version = item.version
    item.accept_go_live(accepted=False, comment="latency target missed; accepted with a fix", actor="olga", now=at(9))
    assert item.design is not None
    assert item.design.go_live == GoLiveAcceptance(False, "olga", at(9), "latency target missed; accepted with a fix")
    assert (item.version, item.updated_at) == (version + 1, at(9))
    assert item.design.requirements == "Payroll for 4,000 staff"  # the rest of the record is kept


def test_an_accepted_go_live_needs_no_comment_and_a_refused_one_says_why() -> None:
    item = implemented()
    with pytest.raises(RuleViolation) as refused:
        item.accept_go_live(accepted=False, comment="  ", actor="olga", now=T0)
    assert refused_field(refused) == "comment"
    item.accept_go_live(accepted=True, comment="", actor="olga", now=T0)
    assert item.design is not None and item.design.go_live is not None and item.design.go_live.accepted


def test_go_live_acceptance_is_refused_without_a_record_before_implementation_and_twice() -> None:
    bare = major_change()
    with pytest.raises(Conflict) as no_record:
        bare.accept_go_live(accepted=True, comment="", actor="olga", now=T0)
    assert "CHG0000042" in explained(no_record.value)
    early = major_change()
    early.record_design(record(), T0)
    with pytest.raises(Conflict) as too_early:
        early.accept_go_live(accepted=True, comment="", actor="olga", now=T0)
    explained(too_early.value)
    assert too_early.value.extensions == {"state": "assessed"}
    done = implemented()
    done.accept_go_live(accepted=True, comment="", actor="olga", now=T0)
    with pytest.raises(Conflict) as twice:
        done.accept_go_live(accepted=True, comment="", actor="olga", now=T0)
    assert "CHG0000042" in explained(twice.value)
