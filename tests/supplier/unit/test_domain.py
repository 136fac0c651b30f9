"""Registering a supplier: pure domain rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from services.supplier.domain.suppliers import (
    RiskRating,
    Supplier,
    SupplierCategory,
    SupplierRegistered,
    SupplierStatus,
    name_key,
)
from shared.errors import RuleViolation

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def register(**overrides: Any) -> Supplier:
    values: dict[str, Any] = {
        "supplier_id": uuid4(),
        "number": "SUP0000001",
        "name": "Acme Networks",
        "category": SupplierCategory.NETWORK,
        "status": SupplierStatus.ACTIVE,
        "risk_rating": RiskRating.MEDIUM,
        "supplier_manager": None,
        "contact_email": None,
        "now": NOW,
    }
    values.update(overrides)
    return Supplier.register(**values)


def test_a_supplier_is_registered_at_version_1_and_records_one_event() -> None:
    supplier_id = uuid4()
    supplier = register(supplier_id=supplier_id, name=" Acme Networks  ")
    assert supplier.name == "Acme Networks"
    assert supplier.version == 1
    assert supplier.created_at == supplier.updated_at == NOW
    assert supplier.pending_events == [SupplierRegistered(supplier_id, "system")]


def test_a_blank_name_is_refused() -> None:
    with pytest.raises(RuleViolation) as exc:
        register(name="  ")
    assert exc.value.extensions["errors"][0]["field"] == "name"


@pytest.mark.parametrize("other", ["acme networks", "ACME NETWORKS", " Acme   Networks ", "Acme\tNetworks"])
def test_names_that_differ_only_in_case_or_spacing_are_one_supplier(other: str) -> None:
    assert name_key(other) == name_key("Acme Networks")


def test_casefolding_goes_beyond_lower_case() -> None:
    assert name_key("Straße Logistik") == name_key("STRASSE LOGISTIK")


@pytest.mark.parametrize("other", ["Acme Network", "AcmeNetworks", "Acme Networks Ltd"])
def test_different_names_are_different_suppliers(other: str) -> None:
    assert name_key(other) != name_key("Acme Networks")


def test_the_record_knows_its_own_name_key() -> None:
    assert register(name="Acme  NETWORKS").name_key == "acme networks"
