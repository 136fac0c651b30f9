"""What a contract records as it moves: its events, each change with old and new values, the rules
at their edges, and how the API's plain values become terms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.supplier.domain.contracts import (
    Contract,
    ContractAction,
    ContractMoved,
    ContractRecorded,
    ContractStatus,
)
from services.supplier.domain.terms import ChargingBasis, ReportingObligation, ServiceTarget, coerce_term
from shared.errors import InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
A, S = ContractAction, ContractStatus
CONTRACT_ID, SUPPLIER_ID = uuid4(), uuid4()


def draft(**terms: Any) -> Contract:
    values: dict[str, Any] = {
        "title": "Network support",
        "owner": "olga",
        "starts_on": NOW - timedelta(days=30),
        "ends_on": NOW + timedelta(days=365),
        "targets": [{"priority": 1, "response_minutes": 15, "resolution_minutes": 240}],
    }
    values.update(terms)
    return Contract.draft(
        contract_id=CONTRACT_ID, number="CTR0000001", supplier_id=SUPPLIER_ID, terms=values, actor="olga", now=NOW
    )


def active(**terms: Any) -> Contract:
    contract = draft(**terms)
    contract.activate(actor="olga", now=NOW)
    contract.pending_events.clear()
    return contract


def moves(contract: Contract) -> list[ContractMoved]:
    return [e for e in contract.pending_events if isinstance(e, ContractMoved)]


def refused_fields(error: pytest.ExceptionInfo[RuleViolation]) -> list[str]:
    assert isinstance(error.value.detail, str) and error.value.detail  # the client is told why, in words
    return [e["field"] for e in error.value.extensions["errors"]]


def test_a_draft_is_recorded_once_with_its_ids_its_author_and_its_time() -> None:
    c = draft()
    assert (c.id, c.number, c.supplier_id) == (CONTRACT_ID, "CTR0000001", SUPPLIER_ID)
    assert c.created_at == c.updated_at == NOW
    assert c.pending_events == [ContractRecorded(CONTRACT_ID, "olga")]


def test_activation_records_who_when_and_the_status_change() -> None:
    c = draft()
    later = NOW + timedelta(hours=1)
    c.activate(actor="ivan", now=later)
    assert (c.status, c.activated_at, c.updated_at, c.version) == (S.ACTIVE, later, later, 2)
    assert moves(c) == [
        ContractMoved(CONTRACT_ID, A.ACTIVATE, S.DRAFT, "ivan", {"status": ("draft", "active")}, "", None)
    ]


def test_a_contract_ending_exactly_now_cannot_be_activated() -> None:
    c = draft(ends_on=NOW)
    with pytest.raises(RuleViolation) as refused:
        c.activate(actor="olga", now=NOW)
    assert refused_fields(refused) == ["ends_on"]
    assert c.status is S.DRAFT
    c.activate(actor="olga", now=NOW - timedelta(seconds=1))
    assert c.status is S.ACTIVE


def test_editing_a_draft_records_only_what_changed_and_nothing_when_nothing_did() -> None:
    c = draft()
    later = NOW + timedelta(minutes=5)
    changes = c.edit({"scope": "all sites", "title": "Network support"}, actor="ivan", now=later)
    assert changes == {"scope": ("", "all sites")}
    assert (c.scope, c.version, c.updated_at) == ("all sites", 2, later)
    assert moves(c) == [ContractMoved(CONTRACT_ID, A.EDIT, S.DRAFT, "ivan", {"scope": ("", "all sites")}, "", None)]
    assert c.edit({"scope": "all sites"}, actor="ivan", now=later) == {}
    assert c.version == 2 and len(moves(c)) == 1


def test_editing_a_draft_refuses_a_field_that_is_not_a_term() -> None:
    c = draft()
    with pytest.raises(RuleViolation) as refused:
        c.edit({"colour": "red", "scope": "x"}, actor="olga", now=NOW)
    assert refused_fields(refused) == ["colour"]
    assert (c.scope, c.version) == ("", 1)


def test_an_edit_that_breaks_a_rule_leaves_the_draft_as_it_was() -> None:
    c = draft()
    with pytest.raises(RuleViolation):
        c.edit({"scope": "new", "title": " "}, actor="olga", now=NOW)
    assert (c.scope, c.title, c.version) == ("", "Network support", 1)


def test_an_amendment_is_returned_and_recorded_with_its_reason_review_and_time() -> None:
    c = active()
    review_id = uuid4()
    later = NOW + timedelta(days=3)
    amendment = c.amend({"scope": "EU"}, reason="review", actor="ivan", now=later, review_id=review_id)
    assert (amendment.contract_id, amendment.number, amendment.reason) == (CONTRACT_ID, 1, "review")
    assert (amendment.changes, amendment.actor, amendment.at, amendment.review_id) == (
        {"scope": ("", "EU")},
        "ivan",
        later,
        review_id,
    )
    assert moves(c) == [ContractMoved(CONTRACT_ID, A.AMEND, S.ACTIVE, "ivan", {"scope": ("", "EU")}, "review", 1)]
    assert c.updated_at == later


@pytest.mark.parametrize(("field", "value"), [("ends_on", NOW + timedelta(days=999)), ("colour", "red")])
def test_an_amendment_names_the_field_it_cannot_change(field: str, value: Any) -> None:
    c = active()
    with pytest.raises(RuleViolation) as refused:
        c.amend({field: value}, reason="r", actor="olga", now=NOW)
    assert refused_fields(refused) == [field]


def test_an_amendment_without_reason_or_change_says_which() -> None:
    c = active()
    with pytest.raises(RuleViolation) as no_reason:
        c.amend({"scope": "x"}, reason="  ", actor="olga", now=NOW)
    assert refused_fields(no_reason) == ["reason"]
    with pytest.raises(RuleViolation) as no_change:
        c.amend({"scope": ""}, reason="r", actor="olga", now=NOW)
    assert refused_fields(no_change) == ["changes"]


def test_renewal_records_the_new_end_and_term_and_keeps_a_contract_in_force_active() -> None:
    c = active()
    old_end, new_end = c.ends_on, c.ends_on + timedelta(days=365)
    later = NOW + timedelta(days=7)
    c.renew(ends_on=new_end, reason="another year", actor="ivan", now=later)
    assert (c.updated_at, c.version) == (later, 3)
    assert moves(c) == [
        ContractMoved(
            CONTRACT_ID,
            A.RENEW,
            S.ACTIVE,
            "ivan",
            {"ends_on": (old_end.isoformat(), new_end.isoformat()), "term": (1, 2)},
            "another year",
            None,
        )
    ]


def test_renewing_an_expiring_contract_records_that_it_is_active_again() -> None:
    c = active()
    c.mark_expiring(now=NOW)
    new_end = c.ends_on + timedelta(days=30)
    c.renew(ends_on=new_end, reason="r", actor="olga", now=NOW)
    assert moves(c)[-1].changes["status"] == ("expiring", "active")
    assert moves(c)[-1].previous is S.EXPIRING


def test_a_renewal_that_does_not_end_later_names_the_end() -> None:
    c = active()
    with pytest.raises(RuleViolation) as refused:
        c.renew(ends_on=c.ends_on, reason="r", actor="olga", now=NOW)
    assert refused_fields(refused) == ["ends_on"]
    assert c.term == 1


def test_termination_and_cancellation_record_who_why_and_when() -> None:
    c = active()
    later = NOW + timedelta(days=1)
    c.terminate(reason="breach", actor="ivan", now=later)
    assert moves(c) == [
        ContractMoved(CONTRACT_ID, A.TERMINATE, S.ACTIVE, "ivan", {"status": ("active", "terminated")}, "breach")
    ]
    assert c.updated_at == later
    d = draft()
    d.cancel(reason="not needed", actor="ivan", now=later)
    assert moves(d) == [
        ContractMoved(CONTRACT_ID, A.CANCEL, S.DRAFT, "ivan", {"status": ("draft", "cancelled")}, "not needed")
    ]
    assert d.updated_at == later


def test_a_termination_without_reason_names_the_reason() -> None:
    c = active()
    with pytest.raises(RuleViolation) as refused:
        c.terminate(reason=" ", actor="olga", now=NOW)
    assert refused_fields(refused) == ["reason"]
    assert c.status is S.ACTIVE


def test_the_watcher_acts_under_its_own_name() -> None:
    c = active()
    warned, ended = NOW + timedelta(days=1), NOW + timedelta(days=2)
    c.mark_expiring(now=warned)
    assert c.updated_at == warned
    c.expire(now=ended)
    assert [(e.action, e.actor, e.previous, e.changes, e.reason) for e in moves(c)] == [
        (A.MARK_EXPIRING, "expiry-watcher", S.ACTIVE, {"status": ("active", "expiring")}, ""),
        (A.EXPIRE, "expiry-watcher", S.EXPIRING, {"status": ("expiring", "expired")}, ""),
    ]
    assert c.updated_at == ended


def test_a_refused_action_says_in_which_state_and_what_is_allowed() -> None:
    c = active()
    with pytest.raises(InvalidTransition) as refused:
        c.activate(actor="olga", now=NOW)
    assert refused.value.extensions == {"state": "active", "allowed_actions": ["amend", "renew", "terminate"]}


def test_the_target_for_a_priority_is_that_priority_s_or_none() -> None:
    c = draft(targets=[{"priority": 2, "response_minutes": 30}, {"priority": 1, "response_minutes": 15}])
    assert c.target_for(1) == ServiceTarget(1, 15)
    assert c.target_for(2) == ServiceTarget(2, 30)
    assert c.target_for(3) is None


# ---------------------------------------------------------------- rules across terms, at their edges


def test_a_contract_must_end_after_it_starts_not_on_the_same_moment() -> None:
    with pytest.raises(RuleViolation) as refused:
        draft(starts_on=NOW, ends_on=NOW)
    assert refused_fields(refused) == ["ends_on"]
    assert draft(starts_on=NOW, ends_on=NOW + timedelta(seconds=1)).ends_on > NOW


def test_a_notice_period_of_zero_days_is_allowed_and_a_negative_one_refused() -> None:
    assert draft(notice_period_days=0).notice_deadline == NOW + timedelta(days=365)
    with pytest.raises(RuleViolation) as refused:
        draft(notice_period_days=-1)
    assert refused_fields(refused) == ["notice_period_days"]


def test_a_response_target_may_equal_the_resolution_target_but_not_exceed_it() -> None:
    assert draft(targets=[{"priority": 1, "response_minutes": 60, "resolution_minutes": 60}]).targets
    with pytest.raises(RuleViolation) as refused:
        draft(targets=[{"priority": 1, "response_minutes": 61, "resolution_minutes": 60}])
    assert refused_fields(refused) == ["targets"]


def test_every_broken_rule_of_a_draft_is_reported_at_once_by_field() -> None:
    with pytest.raises(RuleViolation) as refused:
        draft(
            title=" ",
            owner=" ",
            ends_on=NOW - timedelta(days=60),
            notice_period_days=-1,
            currency="eur",
            targets=[{"priority": 1}, {"priority": 1}],
        )
    assert refused_fields(refused) == ["title", "owner", "ends_on", "notice_period_days", "currency", "targets"]


def test_a_draft_refuses_fields_that_are_not_terms_by_name() -> None:
    with pytest.raises(RuleViolation) as refused:
        draft(colour="red", size=3)
    assert refused_fields(refused) == ["colour", "size"]


# ---------------------------------------------------------------- terms from the API's plain values


def test_ids_arrive_as_text_and_are_kept_once_each_in_order() -> None:
    a, b = uuid4(), uuid4()
    for name in ("service_ids", "ci_ids"):
        assert coerce_term(name, [str(b), str(a), str(b)]) == (b, a)
        assert all(isinstance(v, UUID) for v in coerce_term(name, [str(a)]))


def test_targets_and_obligations_may_arrive_as_mappings_or_as_values() -> None:
    targets = coerce_term("targets", [ServiceTarget(3, 60), {"priority": 1, "response_minutes": 15}])
    assert targets == (ServiceTarget(1, 15), ServiceTarget(3, 60))
    obligation = ReportingObligation("availability", "monthly")
    assert coerce_term("reporting_obligations", [obligation, {"report": "incidents", "frequency": "weekly"}]) == (
        obligation,
        ReportingObligation("incidents", "weekly"),
    )


def test_document_refs_are_kept_as_an_ordered_tuple() -> None:
    assert coerce_term("document_refs", ["msa.pdf", "sow.pdf"]) == ("msa.pdf", "sow.pdf")


def test_a_charging_basis_must_be_one_the_suite_knows() -> None:
    assert coerce_term("charging_basis", "subscription") is ChargingBasis.SUBSCRIPTION
    with pytest.raises(ValueError, match="barter"):
        coerce_term("charging_basis", "barter")


def test_a_value_is_an_exact_decimal_and_a_currency_upper_case_and_none_stays_none() -> None:
    assert coerce_term("value", 0.1) == Decimal("0.1")
    assert coerce_term("currency", "chf") == "CHF"
    assert coerce_term("value", None) is None and coerce_term("currency", None) is None


def test_a_contract_states_every_term_it_was_given() -> None:
    terms: dict[str, Any] = {
        "scope": "EU",
        "renewal_terms": "yearly",
        "value": "10",
        "currency": "usd",
        "charging_basis": "per_unit",
        "availability_pct": 99.9,
        "workload_limits": "500 tickets",
        "exceptions": "none",
        "reporting_obligations": [{"report": "sla", "frequency": "monthly"}],
        "exit_terms": "90 days",
        "document_refs": ["msa.pdf"],
    }
    c = draft(**terms)
    assert c.snapshot(list(terms)) == {
        **terms,
        "value": "10",
        "currency": "USD",
        "reporting_obligations": [{"report": "sla", "frequency": "monthly"}],
        "document_refs": ["msa.pdf"],
    }
