"""What the supplier service's events set in the fact tables: suppliers, contracts and what they
cover, disputes (no I/O)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.reporting.domain.facts import CONTRACT_COVERAGE, CONTRACTS, DISPUTES, SUPPLIERS, FactTable
from shared.events.supplier import (
    ContractActivated,
    ContractAmended,
    ContractEvent,
    ContractExpired,
    ContractExpiring,
    ContractRenewed,
    ContractTerminated,
    DisputeClosed,
    DisputeEvent,
    DisputeOpened,
    SupplierCreated,
    SupplierUpdated,
)


def supplier(data: SupplierCreated | SupplierUpdated) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "supplier_id": data.supplier_id,
        "number": data.number,
        "name": data.name,
        "status": data.status,
    }
    if isinstance(data, SupplierCreated):
        values["category"] = data.category
        values["created_at"] = data.created_at
    return [(SUPPLIERS, values)]


_COVERED_ITEMS = {"ci_ids": "ci", "service_ids": "service"}


def _coverage(data: ContractEvent, kind: str, item: UUID, *, covered: bool) -> tuple[FactTable, dict[str, Any]]:
    values: dict[str, Any] = {
        "contract_id": data.contract_id,
        "item_kind": kind,
        "item_id": item,
        "covered": covered,
        "added_at" if covered else "removed_at": data.occurred_at,
    }
    return (CONTRACT_COVERAGE, values)


def _uuids(value: Any) -> set[UUID]:
    """The ids in one side of an amendment's `[old, new]` (JSON text); anything else is no id."""
    found: set[UUID] = set()
    for item in value if isinstance(value, list) else []:
        try:
            found.add(UUID(str(item)))
        except ValueError:
            continue
    return found


def _amended_coverage(data: ContractAmended) -> list[tuple[FactTable, dict[str, Any]]]:
    out: list[tuple[FactTable, dict[str, Any]]] = []
    for name, kind in _COVERED_ITEMS.items():
        change = data.changes.get(name)
        if not isinstance(change, list) or len(change) != 2:
            continue
        old, new = _uuids(change[0]), _uuids(change[1])
        out += [_coverage(data, kind, item, covered=True) for item in sorted(new - old)]
        out += [_coverage(data, kind, item, covered=False) for item in sorted(old - new)]
    return out


def contract(data: ContractEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "contract_id": data.contract_id,
        "supplier_id": data.supplier_id,
        "number": data.number,
        "status": data.status,
    }
    coverage: list[tuple[FactTable, dict[str, Any]]] = []
    if isinstance(data, ContractActivated):
        values["starts_on"] = data.starts_on
        values["ends_on"] = data.ends_on
        values["activated_at"] = data.occurred_at
        coverage += [_coverage(data, "ci", item, covered=True) for item in dict.fromkeys(data.ci_ids)]
        coverage += [_coverage(data, "service", item, covered=True) for item in dict.fromkeys(data.service_ids)]
    if isinstance(data, ContractRenewed | ContractExpiring):
        values["ends_on"] = data.ends_on
    if isinstance(data, ContractTerminated | ContractExpired):
        values["ended_at"] = data.occurred_at
    if isinstance(data, ContractAmended):
        coverage += _amended_coverage(data)
    return [(CONTRACTS, values), *coverage]


def dispute(data: DisputeEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "dispute_id": data.dispute_id,
        "supplier_id": data.supplier_id,
        "contract_id": data.contract_id,
        "status": data.status,
    }
    if isinstance(data, DisputeOpened):
        values["opened_at"] = data.occurred_at
    if isinstance(data, DisputeClosed):
        values["closed_at"] = data.occurred_at
    return [(DISPUTES, values)]
