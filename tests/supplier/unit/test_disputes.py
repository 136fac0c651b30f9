"""Disputes with suppliers: what opening one records, and what each step changes and records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from services.supplier.domain.disputes import (
    DISPUTE_TRANSITIONS,
    Dispute,
    DisputeAction,
    DisputeMoved,
    DisputeRaised,
    DisputeStatus,
)
from shared.errors import InvalidTransition, RuleViolation

T0 = datetime(2026, 11, 3, 8, 0, tzinfo=UTC)
DA, DS = DisputeAction, DisputeStatus
DISPUTE_ID, SUPPLIER_ID, CONTRACT_ID = uuid4(), uuid4(), uuid4()


def open_dispute(**overrides: Any) -> Dispute:
    values: dict[str, Any] = {
        "dispute_id": DISPUTE_ID,
        "number": "DSP0000001",
        "supplier_id": SUPPLIER_ID,
        "contract_id": CONTRACT_ID,
        "title": "Credits for the March outage",
        "description": "Four hours down",
        "owner": "olga",
        "amount": Decimal("5000"),
        "currency": "eur",
        "actor": "ivan",
        "now": T0,
    }
    values.update(overrides)
    return Dispute.open(**values)


def moves(d: Dispute) -> list[DisputeMoved]:
    return [e for e in d.pending_events if isinstance(e, DisputeMoved)]


def test_opening_a_dispute_keeps_what_was_said_and_records_one_event() -> None:
    d = open_dispute()
    assert (d.id, d.number, d.supplier_id, d.contract_id) == (DISPUTE_ID, "DSP0000001", SUPPLIER_ID, CONTRACT_ID)
    assert (d.title, d.description, d.owner) == ("Credits for the March outage", "Four hours down", "olga")
    assert (d.amount, d.currency, d.status, d.resolution) == (Decimal("5000"), "EUR", DS.OPEN, None)
    assert (d.opened_by, d.opened_at, d.updated_at, d.closed_at, d.version) == ("ivan", T0, T0, None, 1)
    assert d.pending_events == [DisputeRaised(DISPUTE_ID, "ivan")]


def test_a_dispute_without_an_amount_has_no_currency_either() -> None:
    d = open_dispute(amount=None, currency=None)
    assert (d.amount, d.currency) == (None, None)


@pytest.mark.parametrize(("amount", "currency"), [(Decimal("1"), None), (None, "EUR")])
def test_an_amount_and_its_currency_come_together(amount: Decimal | None, currency: str | None) -> None:
    with pytest.raises(RuleViolation) as refused:
        open_dispute(amount=amount, currency=currency)
    assert refused.value.detail
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["currency"]


def test_each_step_records_the_status_change_who_when_and_the_note() -> None:
    d = open_dispute()
    later = T0 + timedelta(hours=2)
    d.act(DA.ESCALATE, note="no answer", actor="olga", now=later)
    assert (d.status, d.version, d.updated_at) == (DS.ESCALATED, 2, later)
    assert moves(d) == [DisputeMoved(DISPUTE_ID, DA.ESCALATE, "olga", {"status": ("open", "escalated")}, "no answer")]


def test_resolving_records_the_resolution_and_reopening_clears_it() -> None:
    d = open_dispute()
    d.act(DA.RESOLVE, note="", actor="olga", now=T0, resolution="Credit of 3,000 EUR")
    d.act(DA.REOPEN, note="credit never paid", actor="olga", now=T0)
    assert (d.status, d.resolution) == (DS.OPEN, None)
    assert [e.changes for e in moves(d)] == [
        {"status": ("open", "resolved"), "resolution": (None, "Credit of 3,000 EUR")},
        {"status": ("resolved", "open"), "resolution": ("Credit of 3,000 EUR", None)},
    ]
    assert d.closed_at is None


def test_a_resolution_must_say_something() -> None:
    d = open_dispute()
    with pytest.raises(RuleViolation) as refused:
        d.act(DA.RESOLVE, note="", actor="olga", now=T0, resolution="  ")
    assert refused.value.detail
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["resolution"]
    assert (d.status, d.version, moves(d)) == (DS.OPEN, 1, [])


def test_a_step_the_table_does_not_allow_says_in_which_state_and_what_is_allowed() -> None:
    d = open_dispute()
    with pytest.raises(InvalidTransition) as refused:
        d.act(DA.REOPEN, note="", actor="olga", now=T0)
    assert refused.value.extensions == {"state": "open", "allowed_actions": ["escalate", "negotiate", "resolve"]}


@pytest.mark.parametrize("status", list(DS))
def test_the_allowed_actions_are_those_of_the_table(status: DisputeStatus) -> None:
    d = open_dispute()
    d.status = status
    assert d.allowed_actions() == [a.value for a in DISPUTE_TRANSITIONS[status]]
