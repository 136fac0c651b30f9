"""Suppliers as pure domain code: the supplier record and what makes two names the same (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from shared.errors import RuleViolation


class SupplierCategory(StrEnum):
    HARDWARE = "hardware"
    SOFTWARE = "software"
    CLOUD = "cloud"
    NETWORK = "network"
    SERVICES = "services"
    FACILITIES = "facilities"
    OTHER = "other"


class SupplierStatus(StrEnum):
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXITED = "exited"


class RiskRating(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def name_key(name: str) -> str:
    """The form under which two supplier names are one supplier: case and spacing do not count."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class SupplierRegistered:
    """Domain event: a supplier was registered."""

    supplier_id: UUID


@dataclass
class Supplier:
    id: UUID
    number: str
    name: str
    category: SupplierCategory
    status: SupplierStatus
    risk_rating: RiskRating
    supplier_manager: str | None
    contact_email: str | None
    created_at: datetime
    updated_at: datetime
    version: int = 1
    pending_events: list[SupplierRegistered] = field(default_factory=list, compare=False, repr=False)

    @property
    def name_key(self) -> str:
        return name_key(self.name)

    @classmethod
    def register(
        cls,
        *,
        supplier_id: UUID,
        number: str,
        name: str,
        category: SupplierCategory,
        status: SupplierStatus,
        risk_rating: RiskRating,
        supplier_manager: str | None,
        contact_email: str | None,
        now: datetime,
    ) -> Supplier:
        if not name.strip():
            raise RuleViolation("a supplier needs a name", field="name")
        supplier = cls(
            id=supplier_id,
            number=number,
            name=name.strip(),
            category=category,
            status=status,
            risk_rating=risk_rating,
            supplier_manager=supplier_manager,
            contact_email=contact_email,
            created_at=now,
            updated_at=now,
        )
        supplier.pending_events.append(SupplierRegistered(supplier_id))
        return supplier
