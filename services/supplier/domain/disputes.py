"""Disputes with suppliers (7.2): the lifecycle as a table, each step kept in the history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final
from uuid import UUID

from services.supplier.domain.records import Changes
from shared.errors import InvalidTransition, RuleViolation


class DisputeStatus(StrEnum):
    OPEN = "open"
    IN_NEGOTIATION = "in_negotiation"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


class DisputeAction(StrEnum):
    NEGOTIATE = "negotiate"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"


DS, DA = DisputeStatus, DisputeAction

DISPUTE_TRANSITIONS: Final[Mapping[DisputeStatus, Mapping[DisputeAction, DisputeStatus]]] = {
    DS.OPEN: {DA.NEGOTIATE: DS.IN_NEGOTIATION, DA.ESCALATE: DS.ESCALATED, DA.RESOLVE: DS.RESOLVED},
    DS.IN_NEGOTIATION: {DA.ESCALATE: DS.ESCALATED, DA.RESOLVE: DS.RESOLVED},
    DS.ESCALATED: {DA.NEGOTIATE: DS.IN_NEGOTIATION, DA.RESOLVE: DS.RESOLVED},
    DS.RESOLVED: {DA.CLOSE: DS.CLOSED, DA.REOPEN: DS.OPEN},
    DS.CLOSED: {},
}


@dataclass(frozen=True)
class DisputeRaised:
    dispute_id: UUID
    actor: str


@dataclass(frozen=True)
class DisputeMoved:
    dispute_id: UUID
    action: DisputeAction
    actor: str
    changes: Changes
    reason: str


@dataclass
class Dispute:
    id: UUID
    number: str
    supplier_id: UUID
    contract_id: UUID | None
    title: str
    description: str
    owner: str
    amount: Decimal | None
    currency: str | None
    status: DisputeStatus
    resolution: str | None
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    version: int = 1
    pending_events: list[DisputeRaised | DisputeMoved] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def open(
        cls,
        *,
        dispute_id: UUID,
        number: str,
        supplier_id: UUID,
        contract_id: UUID | None,
        title: str,
        description: str,
        owner: str,
        amount: Decimal | None,
        currency: str | None,
        actor: str,
        now: datetime,
    ) -> Dispute:
        if (amount is None) != (currency is None):
            raise RuleViolation("an amount needs its currency, and a currency its amount", field="currency")
        dispute = cls(
            id=dispute_id,
            number=number,
            supplier_id=supplier_id,
            contract_id=contract_id,
            title=title,
            description=description,
            owner=owner,
            amount=amount,
            currency=currency.upper() if currency else None,
            status=DisputeStatus.OPEN,
            resolution=None,
            opened_by=actor,
            opened_at=now,
            updated_at=now,
        )
        dispute.pending_events.append(DisputeRaised(dispute_id, actor))
        return dispute

    def allowed_actions(self) -> list[str]:
        return [a.value for a in DISPUTE_TRANSITIONS[self.status]]

    def act(
        self, action: DisputeAction, *, note: str, actor: str, now: datetime, resolution: str | None = None
    ) -> None:
        target = DISPUTE_TRANSITIONS[self.status].get(action)
        if target is None:
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())
        changes: Changes = {"status": (self.status.value, target.value)}
        if action is DisputeAction.RESOLVE:
            if not (resolution or "").strip():
                raise RuleViolation("a dispute is resolved with its resolution", field="resolution")
            changes["resolution"] = (self.resolution, resolution)
            self.resolution = resolution
        if action is DisputeAction.REOPEN:
            changes["resolution"] = (self.resolution, None)
            self.resolution = None
        if action is DisputeAction.CLOSE:
            self.closed_at = now
        self.status = target
        self.version += 1
        self.updated_at = now
        self.pending_events.append(DisputeMoved(self.id, action, actor, changes, note))
