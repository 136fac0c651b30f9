"""Contracts as pure domain code: the lifecycle table, amendments, the watcher's decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from services.supplier.domain.contracts import (
    SYSTEM_ACTIONS,
    TRANSITIONS,
    Contract,
    ContractAction,
    ContractMoved,
    ContractStatus,
)
from services.supplier.domain.terms import ServiceTarget
from shared.errors import InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
A, S = ContractAction, ContractStatus


def draft(**terms: Any) -> Contract:
    values: dict[str, Any] = {
        "title": "Network support",
        "owner": "olga",
        "starts_on": NOW - timedelta(days=30),
        "ends_on": NOW + timedelta(days=365),
        "notice_period_days": 90,
        "targets": [{"priority": 1, "response_minutes": 15, "resolution_minutes": 240}],
        "value": "1200.50",
        "currency": "eur",
    }
    values.update(terms)
    return Contract.draft(
        contract_id=uuid4(), number="CTR0000001", supplier_id=uuid4(), terms=values, actor="olga", now=NOW
    )


def active(**terms: Any) -> Contract:
    contract = draft(**terms)
    contract.activate(actor="olga", now=NOW)
    contract.pending_events.clear()
    return contract


def test_a_draft_holds_its_terms_typed_and_defaults_the_rest() -> None:
    c = draft()
    assert (c.status, c.version, c.term, c.amendments) == (S.DRAFT, 1, 1, 0)
    assert c.value == Decimal("1200.50") and c.currency == "EUR"
    assert c.targets == (ServiceTarget(1, 15, 240),)
    assert c.notice_deadline == c.ends_on - timedelta(days=90)
    assert (c.scope, c.ci_ids, c.exit_terms) == ("", (), "")


def _path_to(status: ContractStatus) -> Contract:
    c = draft()
    if status is S.DRAFT:
        return c
    if status is S.CANCELLED:
        c.cancel(reason="not needed", actor="olga", now=NOW)
        return c
    c.activate(actor="olga", now=NOW)
    if status is S.EXPIRING:
        c.mark_expiring(now=NOW)
    elif status is S.EXPIRED:
        c.expire(now=NOW)
    elif status is S.TERMINATED:
        c.terminate(reason="breach of contract", actor="olga", now=NOW)
    return c


def _do(c: Contract, action: ContractAction) -> None:
    match action:
        case A.EDIT:
            c.edit({"scope": f"scope {uuid4()}"}, actor="olga", now=NOW)
        case A.ACTIVATE:
            c.activate(actor="olga", now=NOW)
        case A.CANCEL:
            c.cancel(reason="r", actor="olga", now=NOW)
        case A.AMEND:
            c.amend({"scope": f"scope {uuid4()}"}, reason="r", actor="olga", now=NOW)
        case A.RENEW:
            c.renew(ends_on=c.ends_on + timedelta(days=365), reason="r", actor="olga", now=NOW)
        case A.TERMINATE:
            c.terminate(reason="r", actor="olga", now=NOW)
        case A.MARK_EXPIRING:
            c.mark_expiring(now=NOW)
        case A.EXPIRE:
            c.expire(now=NOW)


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_action_is_taken_where_the_table_allows_it_and_refused_elsewhere(
    status: ContractStatus, action: ContractAction
) -> None:
    c = _path_to(status)
    assert c.status is status
    target = TRANSITIONS[status].get(action)
    if target is None:
        with pytest.raises(InvalidTransition) as refused:
            _do(c, action)
        assert refused.value.extensions["allowed_actions"] == sorted(
            a.value for a in TRANSITIONS[status] if a not in SYSTEM_ACTIONS
        )
        assert c.status is status
    else:
        _do(c, action)
        assert c.status is target


def test_the_watcher_actions_are_never_offered_to_clients() -> None:
    c = active()
    assert c.allowed_actions() == ["amend", "renew", "terminate"]


def test_a_contract_in_force_is_not_edited_but_amended_with_a_numbered_record() -> None:
    c = active()
    with pytest.raises(InvalidTransition):
        c.edit({"scope": "more"}, actor="olga", now=NOW)
    version = c.version
    first = c.amend(
        {"targets": [{"priority": 1, "response_minutes": 10, "resolution_minutes": 120}], "scope": "all sites"},
        reason="review findings",
        actor="olga",
        now=NOW,
    )
    second = c.amend({"notice_period_days": 60}, reason="renegotiated", actor="ivan", now=NOW)
    assert (first.number, second.number, c.amendments, c.version) == (1, 2, 2, version + 2)
    assert first.changes == {
        "scope": ("", "all sites"),
        "targets": (
            [{"priority": 1, "response_minutes": 15, "resolution_minutes": 240}],
            [{"priority": 1, "response_minutes": 10, "resolution_minutes": 120}],
        ),
    }
    assert second.changes == {"notice_period_days": (90, 60)} and second.actor == "ivan"
    moved = [e for e in c.pending_events if isinstance(e, ContractMoved)]
    assert [(e.action, e.amendment, e.reason) for e in moved] == [
        (A.AMEND, 1, "review findings"),
        (A.AMEND, 2, "renegotiated"),
    ]


@pytest.mark.parametrize(
    ("values", "reason", "field"),
    [
        ({"scope": "x"}, " ", "reason"),
        ({"ends_on": NOW + timedelta(days=999)}, "extend", "ends_on"),
        ({"supplier_id": str(uuid4())}, "move", "supplier_id"),
        ({}, "nothing", "changes"),
        ({"targets": [{"priority": 2, "response_minutes": 90, "resolution_minutes": 60}]}, "bad", "targets"),
    ],
)
def test_an_amendment_that_breaks_a_rule_changes_nothing(values: dict[str, Any], reason: str, field: str) -> None:
    c = active()
    before = (c.snapshot(), c.version, c.amendments)
    with pytest.raises(RuleViolation) as refused:
        c.amend(values, reason=reason, actor="olga", now=NOW)
    assert field in [e["field"] for e in refused.value.extensions["errors"]]
    assert (c.snapshot(), c.version, c.amendments) == before


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"ends_on": NOW - timedelta(days=31)}, "ends_on"),
        ({"value": None}, "currency"),
        ({"targets": [{"priority": 1}, {"priority": 1}]}, "targets"),
        ({"title": " "}, "title"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_draft_with_inconsistent_terms_is_refused(terms: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        draft(**terms)
    assert field in [e["field"] for e in refused.value.extensions["errors"]]


def test_renewal_starts_a_new_term_that_must_end_later() -> None:
    c = active()
    c.mark_expiring(now=NOW)
    with pytest.raises(RuleViolation):
        c.renew(ends_on=c.ends_on, reason="same", actor="olga", now=NOW)
    new_end = c.ends_on + timedelta(days=365)
    c.renew(ends_on=new_end, reason="another year", actor="olga", now=NOW)
    assert (c.status, c.term, c.ends_on) == (S.ACTIVE, 2, new_end)


def test_a_contract_that_has_ended_cannot_be_activated() -> None:
    c = draft(starts_on=NOW - timedelta(days=400), ends_on=NOW - timedelta(days=1))
    with pytest.raises(RuleViolation):
        c.activate(actor="olga", now=NOW)


@pytest.mark.parametrize(
    ("days_to_deadline", "warning_days", "expected"),
    [(31, 30, None), (30, 30, A.MARK_EXPIRING), (0, 30, A.MARK_EXPIRING), (5, 0, None), (-1, 0, A.MARK_EXPIRING)],
)
def test_the_watcher_warns_when_the_notice_deadline_comes_within_the_warning_days(
    days_to_deadline: int, warning_days: int, expected: ContractAction | None
) -> None:
    c = active(notice_period_days=90, ends_on=NOW + timedelta(days=90 + days_to_deadline))
    assert c.due_action(NOW, warning_days) is expected


def test_the_watcher_expires_at_the_end_and_leaves_finished_contracts_alone() -> None:
    c = active(ends_on=NOW + timedelta(days=1))
    assert c.due_action(NOW + timedelta(days=1), 30) is A.EXPIRE
    c.mark_expiring(now=NOW)
    assert c.due_action(NOW, 30) is None  # already warned
    assert c.due_action(NOW + timedelta(days=2), 30) is A.EXPIRE
    c.expire(now=NOW)
    assert c.due_action(NOW + timedelta(days=2), 30) is None
    assert draft().due_action(NOW + timedelta(days=999), 30) is None
