"""What the supplier service's events set in the fact tables: suppliers, contracts, what they cover,
disputes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.reporting.domain import supplier_events
from services.reporting.domain.facts import CONTRACT_COVERAGE, CONTRACTS, DISPUTES, SUPPLIERS
from shared.events.supplier import (
    ContractAmended,
    ContractCreated,
    ContractExpired,
    ContractExpiring,
    ContractRenewed,
    DisputeClosed,
    DisputeEvent,
    DisputeOpened,
    SupplierCreated,
    SupplierUpdated,
)

T = datetime(2026, 10, 5, 9, tzinfo=UTC)
SUPPLIER, CONTRACT, DISPUTE = UUID(int=1), UUID(int=2), UUID(int=3)
CI_A, CI_B, SERVICE = UUID(int=11), UUID(int=12), UUID(int=13)
COMMON: dict[str, Any] = {"contract_id": CONTRACT, "number": "CTR0000009", "supplier_id": SUPPLIER, "actor": "a"}
CONTRACT_ROW = {"contract_id": CONTRACT, "supplier_id": SUPPLIER, "number": "CTR0000009"}


def test_a_registered_supplier_sets_its_category_and_when_it_was_created() -> None:
    data = SupplierCreated(
        supplier_id=SUPPLIER, number="SUP0000001", name="Acme", category="network", status="active", created_at=T
    )
    assert supplier_events.supplier(data) == [
        (
            SUPPLIERS,
            {
                "supplier_id": SUPPLIER,
                "number": "SUP0000001",
                "name": "Acme",
                "status": "active",
                "category": "network",
                "created_at": T,
            },
        )
    ]


def test_an_updated_supplier_sets_its_name_and_status_only() -> None:
    data = SupplierUpdated(
        supplier_id=SUPPLIER, number="SUP0000001", name="Acme 2", status="suspended", actor="a", occurred_at=T
    )
    assert supplier_events.supplier(data) == [
        (SUPPLIERS, {"supplier_id": SUPPLIER, "number": "SUP0000001", "name": "Acme 2", "status": "suspended"})
    ]


def test_a_created_contract_sets_its_row_and_covers_nothing_yet() -> None:
    data = ContractCreated(**COMMON, status="draft", occurred_at=T)
    assert supplier_events.contract(data) == [(CONTRACTS, CONTRACT_ROW | {"status": "draft"})]


def test_a_renewal_and_an_expiry_notice_move_the_end_of_the_term() -> None:
    end = datetime(2028, 1, 1, tzinfo=UTC)
    renewed = ContractRenewed(**COMMON, status="active", occurred_at=T, ends_on=end)
    assert supplier_events.contract(renewed) == [(CONTRACTS, CONTRACT_ROW | {"status": "active", "ends_on": end})]
    expiring = ContractExpiring(
        **COMMON, status="expiring", occurred_at=T, ends_on=end, notice_deadline=datetime(2027, 10, 1, tzinfo=UTC)
    )
    assert supplier_events.contract(expiring) == [(CONTRACTS, CONTRACT_ROW | {"status": "expiring", "ends_on": end})]


def test_an_expired_contract_ended_then() -> None:
    data = ContractExpired(**COMMON, status="expired", occurred_at=T)
    assert supplier_events.contract(data) == [(CONTRACTS, CONTRACT_ROW | {"status": "expired", "ended_at": T})]


def amended(changes: dict[str, Any]) -> ContractAmended:
    """Built without validation: what an older producer wrote into the log may be any JSON."""
    return ContractAmended.model_construct(
        **COMMON, status="active", occurred_at=T, amendment=1, reason="r", changes=changes
    )


def test_an_amendment_adds_and_removes_services_and_cis_in_id_order() -> None:
    data = amended(
        {
            "ci_ids": [[], [str(CI_B), str(CI_A)]],
            "service_ids": [[str(SERVICE)], []],
        }
    )
    [(table, values), *coverage] = supplier_events.contract(data)
    assert (table, values) == (CONTRACTS, CONTRACT_ROW | {"status": "active"})
    assert coverage == [
        (
            CONTRACT_COVERAGE,
            {"contract_id": CONTRACT, "item_kind": "ci", "item_id": CI_A, "covered": True, "added_at": T},
        ),
        (
            CONTRACT_COVERAGE,
            {"contract_id": CONTRACT, "item_kind": "ci", "item_id": CI_B, "covered": True, "added_at": T},
        ),
        (
            CONTRACT_COVERAGE,
            {"contract_id": CONTRACT, "item_kind": "service", "item_id": SERVICE, "covered": False, "removed_at": T},
        ),
    ]


def test_an_amendment_reads_only_an_old_and_new_pair_of_ids() -> None:
    for change in ([[str(CI_A)]], [[], [str(CI_A)], []], "x", None, [None, [str(CI_A), "not-an-id", 7]]):
        coverage = supplier_events.contract(amended({"ci_ids": change}))[1:]
        expected = [CI_A] if isinstance(change, list) and len(change) == 2 else []
        assert [v["item_id"] for _, v in coverage] == expected, change


def test_an_amendment_of_the_services_alone_covers_them_whatever_it_says_of_the_cis() -> None:
    for ci_change in (None, "x", [[str(CI_A)]]):
        changes = {"service_ids": [[], [str(SERVICE)]]} | ({} if ci_change is None else {"ci_ids": ci_change})
        coverage = supplier_events.contract(amended(changes))[1:]
        assert [(v["item_kind"], v["item_id"], v["covered"]) for _, v in coverage] == [("service", SERVICE, True)]


def test_an_id_that_cannot_be_read_is_skipped_and_the_rest_are_read() -> None:
    coverage = supplier_events.contract(amended({"ci_ids": [[], ["not-an-id", None, str(CI_B), str(CI_A)]]}))[1:]
    assert [v["item_id"] for _, v in coverage] == [CI_A, CI_B]


def test_an_amendment_that_leaves_the_coverage_alone_adds_no_coverage_rows() -> None:
    same = amended({"ci_ids": [[str(CI_A)], [str(CI_A)]], "title": ["a", "b"]})
    assert supplier_events.contract(same) == [(CONTRACTS, CONTRACT_ROW | {"status": "active"})]


def dispute(cls: type[DisputeEvent], status: str, **extra: Any) -> Any:
    return cls(
        dispute_id=DISPUTE,
        number="DSP0000001",
        supplier_id=SUPPLIER,
        contract_id=CONTRACT,
        title="t",
        owner="o",
        status=status,
        occurred_at=T,
        **extra,
    )


def test_a_dispute_opened_then_and_closed_later() -> None:
    row = {"dispute_id": DISPUTE, "supplier_id": SUPPLIER, "contract_id": CONTRACT}
    assert supplier_events.dispute(dispute(DisputeOpened, "open")) == [
        (DISPUTES, row | {"status": "open", "opened_at": T})
    ]
    closed = dispute(DisputeClosed, "closed", resolution="credit note")
    assert supplier_events.dispute(closed) == [(DISPUTES, row | {"status": "closed", "closed_at": T})]
    moved = DisputeEvent.model_construct(**dispute(DisputeOpened, "escalated").model_dump())
    assert supplier_events.dispute(moved) == [(DISPUTES, row | {"status": "escalated"})]
