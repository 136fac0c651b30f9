"""Events published by the supplier service."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventData


class SupplierCreated(EventData):
    routing_key: ClassVar[str] = "supplier.created.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A supplier was registered (ISO/IEC 20000-1 7.2)."

    supplier_id: UUID
    number: str = Field(examples=["SUP0000001"])
    name: str
    category: str
    status: str
    created_at: datetime
    risk_rating: str | None = None
    lead_supplier_id: UUID | None = Field(default=None, description="Set for a sub-contractor of a lead supplier")


class SupplierUpdated(EventData):
    routing_key: ClassVar[str] = "supplier.updated.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A supplier's record changed; `changes` holds each field's old and new value."

    supplier_id: UUID
    number: str
    name: str
    status: str
    lead_supplier_id: UUID | None = None
    changes: dict[str, list[Any]] = Field(default_factory=dict, description="field -> [old, new]")
    actor: str
    occurred_at: datetime


class ContractEvent(EventData):
    """What every contract event carries."""

    contract_id: UUID
    number: str = Field(examples=["CTR0000001"])
    supplier_id: UUID
    status: str
    actor: str
    occurred_at: datetime


class ContractCreated(ContractEvent):
    routing_key: ClassVar[str] = "contract.created.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A contract with a supplier was recorded in draft."


class ContractCost(EventData):
    """What a contract in force costs, for budgeting and accounting (6.4): the value agreed for the
    term and how it is charged. Absent from events of producers older than these fields."""

    value: Decimal | None = Field(default=None, description="The contract's value for its term, exact to the cent")
    currency: str | None = Field(default=None, examples=["EUR"])
    charging_basis: str | None = Field(
        default=None, description="fixed, subscription, per_unit, per_incident, time_and_materials or other"
    )


class ContractActivated(ContractEvent, ContractCost):
    routing_key: ClassVar[str] = "contract.activated.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = (
        "A contract became active; config records the supplier as supporting its CIs. Carries its value and"
        " charging basis for cost use."
    )

    ci_ids: list[UUID] = Field(default_factory=list)
    service_ids: list[UUID] = Field(default_factory=list)
    starts_on: datetime
    ends_on: datetime


class ContractAmended(ContractEvent):
    routing_key: ClassVar[str] = "contract.amended.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A contract was changed through a recorded amendment."

    amendment: int = Field(ge=1, description="The amendment's sequence number on this contract")
    changes: dict[str, list[Any]] = Field(default_factory=dict, description="field -> [old, new]")
    reason: str


class ContractExpiring(ContractEvent):
    routing_key: ClassVar[str] = "contract.expiring.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A contract's notice deadline is near; raised once per contract and deadline."

    notice_deadline: datetime
    ends_on: datetime


class ContractExpired(ContractEvent):
    routing_key: ClassVar[str] = "contract.expired.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A contract reached its end without renewal."


class ContractRenewed(ContractEvent, ContractCost):
    routing_key: ClassVar[str] = "contract.renewed.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = (
        "A contract was renewed for a new term, with its value and charging basis for cost use."
    )

    ends_on: datetime


class ContractTerminated(ContractEvent):
    routing_key: ClassVar[str] = "contract.terminated.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A contract was terminated before its end."

    reason: str


class SupplierTargetBreached(EventData):
    routing_key: ClassVar[str] = "supplier.target_breached.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A supplier missed a contract target (for example an incident resolved late)."

    supplier_id: UUID
    contract_id: UUID
    metric: Literal["response", "resolution", "availability", "change_success"]
    priority: int | None = None
    target: float = Field(description="Seconds for times, a percentage for availability and success rate")
    actual: float
    incident_id: UUID | None = None
    period: str = Field(examples=["2026-11"])
    occurred_at: datetime


class DisputeEvent(EventData):
    dispute_id: UUID
    number: str = Field(examples=["DSP0000001"])
    supplier_id: UUID
    contract_id: UUID | None = None
    title: str
    owner: str
    status: str
    occurred_at: datetime


class DisputeOpened(DisputeEvent):
    routing_key: ClassVar[str] = "dispute.opened.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A dispute with a supplier was opened."


class DisputeClosed(DisputeEvent):
    routing_key: ClassVar[str] = "dispute.closed.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A dispute with a supplier was closed, with its resolution."

    resolution: str


class AccessEvent(EventData):
    """What every event of the external-party access register (ISO/IEC 20000-1 6.6.2) carries."""

    grant_id: UUID
    number: str = Field(examples=["ACC0000001"])
    supplier_id: UUID
    contract_id: UUID
    service_id: UUID | None = None
    ci_id: UUID | None = None
    system: str = Field(default="", description="A named system reached, beside or instead of a service or CI")
    access_type: str = Field(examples=["remote_support"])
    classification: str = Field(examples=["confidential"], description="The highest classification reached")
    owner: str = Field(description="Accountable for the access on our side")
    status: str
    expires_on: datetime
    actor: str
    occurred_at: datetime


class SupplierAccessGranted(AccessEvent):
    routing_key: ClassVar[str] = "supplier.access_granted.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A supplier was granted access to our services or information (6.6.2)."

    holders: list[str] = Field(default_factory=list, description="The named people or systems holding it")
    next_review_on: datetime


class SupplierAccessReviewDue(AccessEvent):
    routing_key: ClassVar[str] = "supplier.access_review_due.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = (
        "A supplier's access grant is due for review and is now under review; raised once per grant and review date."
    )

    next_review_on: datetime


class SupplierAccessRevoked(AccessEvent):
    routing_key: ClassVar[str] = "supplier.access_revoked.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = (
        "A supplier's access was revoked (or its request turned down), by a person or a review."
    )

    reason: str


class SupplierAccessExpired(AccessEvent):
    routing_key: ClassVar[str] = "supplier.access_expired.v1"
    producer: ClassVar[str] = "supplier"
    description: ClassVar[str] = "A supplier's access grant reached its expiry; raised once per grant and expiry."
