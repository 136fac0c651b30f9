"""Governance of suppliers: the processes they operate (4.2), performance reviews and disputes (7.2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from services.supplier.domain.records import Changes, diff, jsonable
from shared.errors import InvalidTransition, RuleViolation


class Process(StrEnum):
    """The service management processes (ISO/IEC 20000-1 clauses 5 to 9) a party may operate."""

    INCIDENT = "incident"
    SERVICE_REQUEST = "service_request"
    PROBLEM = "problem"
    CHANGE = "change"
    RELEASE_DEPLOYMENT = "release_deployment"
    CONFIGURATION = "configuration"
    SERVICE_LEVEL = "service_level"
    SERVICE_REPORTING = "service_reporting"
    CONTINUITY_AVAILABILITY = "continuity_availability"
    CAPACITY = "capacity"
    INFORMATION_SECURITY = "information_security"
    OTHER = "other"


PROCESS_FIELDS: Final = ("process", "scope", "contract_id", "measurement", "kpis", "process_owner")


@dataclass
class OperatedProcess:
    """One entry of the register: a process, or part of one, that a supplier operates for us."""

    id: UUID
    supplier_id: UUID
    process: Process
    scope: str
    contract_id: UUID | None
    measurement: str
    kpis: tuple[str, ...]
    process_owner: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def snapshot(self) -> dict[str, Any]:
        return {name: jsonable(getattr(self, name)) for name in PROCESS_FIELDS}

    def update(self, values: Mapping[str, Any], now: datetime) -> Changes:
        unknown = sorted(set(values) - set(PROCESS_FIELDS))
        if unknown:
            raise RuleViolation.of_fields([(name, "not a field that can be changed") for name in unknown])
        candidate = replace(self)
        for name, value in values.items():
            setattr(candidate, name, tuple(value) if name == "kpis" else value)
        changes = diff(self.snapshot(), candidate.snapshot())
        if changes:
            for name in PROCESS_FIELDS:
                setattr(self, name, getattr(candidate, name))
            self.version += 1
            self.updated_at = now
        return changes


@dataclass(frozen=True)
class ReviewAction:
    description: str
    owner: str
    due_on: date


@dataclass(frozen=True)
class Review:
    """A performance review held with a supplier: who was there, the figures as they stood, what
    was found and what is to be done. Contract changes it led to are amendments naming it."""

    id: UUID
    number: str
    supplier_id: UUID
    contract_id: UUID | None
    held_on: date
    period: str
    participants: tuple[str, ...]
    figures: Mapping[str, Any]
    findings: str
    actions: tuple[ReviewAction, ...]
    recorded_by: str
    created_at: datetime


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
