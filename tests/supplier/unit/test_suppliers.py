"""A supplier's record: what registering keeps, what an edit changes and records, and the lead /
sub-contractor hierarchy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.supplier.domain.suppliers import (
    MAX_HIERARCHY_DEPTH,
    Contact,
    RiskRating,
    Supplier,
    SupplierCategory,
    SupplierChanged,
    SupplierRole,
    SupplierStatus,
    check_lead,
)
from shared.errors import RuleViolation

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
SUPPLIER_ID = uuid4()


def register(**overrides: Any) -> Supplier:
    values: dict[str, Any] = {
        "supplier_id": SUPPLIER_ID,
        "number": "SUP0000001",
        "name": "Acme Networks",
        "category": SupplierCategory.NETWORK,
        "status": SupplierStatus.ACTIVE,
        "risk_rating": RiskRating.MEDIUM,
        "supplier_manager": "olga",
        "contact_email": "desk@acme.example",
        "now": NOW,
    }
    values.update(overrides)
    return Supplier.register(**values)


def fields_of(refused: pytest.ExceptionInfo[RuleViolation]) -> list[str]:
    assert isinstance(refused.value.detail, str) and refused.value.detail
    return [e["field"] for e in refused.value.extensions["errors"]]


def test_registering_keeps_every_field_given_with_each_id_once() -> None:
    lead, service, ci = uuid4(), uuid4(), uuid4()
    contact = Contact("Ann", "ann@acme.example", "+41", "account manager")
    s = register(
        contacts=[contact],
        service_ids=[service, service],
        ci_ids=[ci, ci],
        lead_supplier_id=lead,
        actor="ivan",
    )
    assert (s.id, s.number, s.name) == (SUPPLIER_ID, "SUP0000001", "Acme Networks")
    assert (s.category, s.status, s.risk_rating) == (SupplierCategory.NETWORK, SupplierStatus.ACTIVE, RiskRating.MEDIUM)
    assert (s.supplier_manager, s.contact_email) == ("olga", "desk@acme.example")
    assert (s.contacts, s.service_ids, s.ci_ids, s.lead_supplier_id) == ((contact,), (service,), (ci,), lead)
    assert s.pending_events[0].actor == "ivan"


def test_a_supplier_with_a_lead_is_a_subcontractor_and_without_one_a_lead() -> None:
    assert register().role is SupplierRole.LEAD
    assert register(lead_supplier_id=uuid4()).role is SupplierRole.SUBCONTRACTOR


@pytest.mark.parametrize(
    ("overrides", "field"), [({"name": " "}, "name"), ({"lead_supplier_id": SUPPLIER_ID}, "lead_supplier_id")]
)
def test_a_refused_registration_says_why_and_names_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        register(**overrides)
    assert fields_of(refused) == [field]


def test_the_snapshot_holds_the_editable_fields_as_json_values() -> None:
    service = uuid4()
    s = register(service_ids=[service], contacts=[Contact("Ann")])
    assert s.snapshot() == {
        "name": "Acme Networks",
        "category": "network",
        "status": "active",
        "risk_rating": "medium",
        "supplier_manager": "olga",
        "contact_email": "desk@acme.example",
        "contacts": [{"name": "Ann", "email": None, "phone": None, "role": None}],
        "service_ids": [str(service)],
        "ci_ids": [],
        "lead_supplier_id": None,
    }


def test_an_update_changes_the_fields_returns_the_diff_and_records_one_event() -> None:
    s = register()
    s.pending_events.clear()
    service, lead = uuid4(), uuid4()
    later = NOW + timedelta(hours=1)
    changes = s.update(
        {
            "name": "  Acme Networks AG ",
            "risk_rating": RiskRating.HIGH,
            "service_ids": [service, service],
            "contacts": [Contact("Ben")],
            "lead_supplier_id": lead,
            "status": SupplierStatus.ACTIVE,
        },
        actor="ivan",
        now=later,
    )
    assert changes == {
        "name": ("Acme Networks", "Acme Networks AG"),
        "risk_rating": ("medium", "high"),
        "service_ids": ([], [str(service)]),
        "contacts": ([], [{"name": "Ben", "email": None, "phone": None, "role": None}]),
        "lead_supplier_id": (None, str(lead)),
    }
    assert (s.name, s.risk_rating, s.service_ids, s.contacts, s.lead_supplier_id) == (
        "Acme Networks AG",
        RiskRating.HIGH,
        (service,),
        (Contact("Ben"),),
        lead,
    )
    assert isinstance(s.contacts, tuple) and isinstance(s.service_ids, tuple)
    assert (s.version, s.updated_at) == (2, later)
    assert s.pending_events == [SupplierChanged(SUPPLIER_ID, changes, "ivan")]


def test_ci_ids_are_kept_once_each_on_update() -> None:
    s = register()
    ci = uuid4()
    s.update({"ci_ids": [ci, ci]}, actor="ivan", now=NOW)
    assert s.ci_ids == (ci,)


def test_an_update_that_changes_nothing_records_nothing() -> None:
    s = register(service_ids=[uuid4()])
    s.pending_events.clear()
    assert s.update({"name": " Acme Networks", "service_ids": list(s.service_ids)}, actor="ivan", now=NOW) == {}
    assert (s.version, s.updated_at, s.pending_events) == (1, NOW, [])


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"number": "SUP9", "name": "Other"}, "number"),
        ({"name": "  "}, "name"),
        ({"lead_supplier_id": SUPPLIER_ID}, "lead_supplier_id"),
    ],
)
def test_a_refused_update_names_the_field_and_changes_nothing(values: dict[str, Any], field: str) -> None:
    s = register()
    s.pending_events.clear()
    with pytest.raises(RuleViolation) as refused:
        s.update(values, actor="ivan", now=NOW)
    assert fields_of(refused) == [field]
    assert (s.name, s.lead_supplier_id, s.version, s.pending_events) == ("Acme Networks", None, 1, [])


def test_a_lead_chain_as_deep_as_allowed_is_accepted_and_one_deeper_refused() -> None:
    me = uuid4()
    chain: list[UUID] = [uuid4() for _ in range(MAX_HIERARCHY_DEPTH)]
    check_lead(me, chain)
    with pytest.raises(RuleViolation) as refused:
        check_lead(me, [*chain, uuid4()])
    assert fields_of(refused) == ["lead_supplier_id"]


def test_a_loop_in_the_hierarchy_names_the_lead_supplier() -> None:
    me = uuid4()
    with pytest.raises(RuleViolation) as refused:
        check_lead(me, [uuid4(), me])
    assert fields_of(refused) == ["lead_supplier_id"]
