"""What the supplier service publishes: its domain events turned into the published contracts."""

from __future__ import annotations

from typing import Any

from services.supplier.domain.contracts import Contract, ContractAction, ContractMoved, ContractRecorded
from services.supplier.domain.disputes import Dispute, DisputeAction, DisputeMoved, DisputeRaised
from services.supplier.domain.suppliers import Supplier, SupplierChanged, SupplierRegistered
from shared.events import EventData
from shared.events.supplier import (
    ContractActivated,
    ContractAmended,
    ContractCreated,
    ContractExpired,
    ContractExpiring,
    ContractRenewed,
    ContractTerminated,
    DisputeClosed,
    DisputeOpened,
    SupplierCreated,
    SupplierUpdated,
)


def to_contract(event: SupplierRegistered | SupplierChanged, supplier: Supplier) -> EventData:
    if isinstance(event, SupplierChanged):
        return SupplierUpdated(
            supplier_id=supplier.id,
            number=supplier.number,
            name=supplier.name,
            status=supplier.status.value,
            lead_supplier_id=supplier.lead_supplier_id,
            changes={name: [old, new] for name, (old, new) in event.changes.items()},
            actor=event.actor,
            occurred_at=supplier.updated_at,
        )
    return SupplierCreated.from_record(
        supplier,
        supplier_id=event.supplier_id,
        category=supplier.category.value,
        status=supplier.status.value,
        risk_rating=supplier.risk_rating.value,
    )


def contract_events(contract: Contract) -> list[EventData]:
    """The published events for the contract's pending domain events (edits of a draft and
    cancellations publish nothing: the contract was never in force)."""
    out: list[EventData] = []
    for event in contract.pending_events:
        data = _contract_event(event, contract)
        if data is not None:
            out.append(data)
    contract.pending_events.clear()
    return out


def _contract_event(event: ContractRecorded | ContractMoved, c: Contract) -> EventData | None:
    common: dict[str, Any] = {
        "contract_id": c.id,
        "number": c.number,
        "supplier_id": c.supplier_id,
        "status": c.status.value,
        "occurred_at": c.updated_at,
    }
    if isinstance(event, ContractRecorded):
        return ContractCreated(actor=event.actor, **common)
    common["actor"] = event.actor
    match event.action:
        case ContractAction.ACTIVATE:
            return ContractActivated(
                ci_ids=list(c.ci_ids),
                service_ids=list(c.service_ids),
                starts_on=c.starts_on,
                ends_on=c.ends_on,
                **_cost(c),
                **common,
            )
        case ContractAction.AMEND:
            return ContractAmended(
                amendment=event.amendment or 0,
                changes={name: [old, new] for name, (old, new) in event.changes.items()},
                reason=event.reason,
                **common,
            )
        case ContractAction.MARK_EXPIRING:
            return ContractExpiring(notice_deadline=c.notice_deadline, ends_on=c.ends_on, **common)
        case ContractAction.EXPIRE:
            return ContractExpired(**common)
        case ContractAction.RENEW:
            return ContractRenewed(ends_on=c.ends_on, **_cost(c), **common)
        case ContractAction.TERMINATE:
            return ContractTerminated(reason=event.reason, **common)
    return None


def _cost(c: Contract) -> dict[str, Any]:
    return {"value": c.value, "currency": c.currency, "charging_basis": c.charging_basis.value}


def dispute_to_contract(event: DisputeRaised | DisputeMoved, d: Dispute) -> EventData | None:
    common: dict[str, Any] = {
        "dispute_id": d.id,
        "number": d.number,
        "supplier_id": d.supplier_id,
        "contract_id": d.contract_id,
        "title": d.title,
        "owner": d.owner,
        "status": d.status.value,
        "occurred_at": d.updated_at,
    }
    if isinstance(event, DisputeRaised):
        return DisputeOpened(**common)
    if event.action is DisputeAction.CLOSE:
        return DisputeClosed(resolution=d.resolution or "", **common)
    return None
