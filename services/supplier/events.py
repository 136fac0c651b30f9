"""What the supplier service publishes: its domain events turned into the published contracts."""

from __future__ import annotations

from typing import Any

from services.supplier.domain.access import AccessGrant, AccessMoved, AccessRequested, GrantAction, GrantStatus
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
    SupplierAccessExpired,
    SupplierAccessGranted,
    SupplierAccessReviewDue,
    SupplierAccessRevoked,
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


def access_events(grant: AccessGrant) -> list[EventData]:
    """The published events for the grant's pending domain events: granted, review due, revoked
    (by a revocation or a review's outcome) and expired; a request and a review that keeps or
    reduces the access publish nothing."""
    out = [data for event in grant.pending_events if (data := _access_event(event, grant)) is not None]
    grant.pending_events.clear()
    return out


def _access_event(event: AccessRequested | AccessMoved, g: AccessGrant) -> EventData | None:
    if not isinstance(event, AccessMoved):
        return None
    common: dict[str, Any] = {
        "grant_id": g.id,
        "number": g.number,
        "supplier_id": g.supplier_id,
        "contract_id": g.contract_id,
        "service_id": g.service_id,
        "ci_id": g.ci_id,
        "system": g.system,
        "access_type": g.access_type.value,
        "classification": g.classification.value,
        "owner": g.owner,
        "status": g.status.value,
        "expires_on": g.expires_on,
        "actor": event.actor,
        "occurred_at": g.updated_at,
    }
    if event.action is GrantAction.GRANT:
        assert g.next_review_on is not None  # set by the grant
        return SupplierAccessGranted(holders=list(g.holders), next_review_on=g.next_review_on, **common)
    if event.action is GrantAction.MARK_REVIEW_DUE:
        assert g.next_review_on is not None
        return SupplierAccessReviewDue(next_review_on=g.next_review_on, **common)
    if event.action is GrantAction.EXPIRE:
        return SupplierAccessExpired(**common)
    if g.status is GrantStatus.REVOKED and event.action in (GrantAction.REVOKE, GrantAction.REVIEW):
        return SupplierAccessRevoked(reason=event.reason, **common)
    return None
