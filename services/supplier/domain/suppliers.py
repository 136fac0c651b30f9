"""Suppliers: the record, its edits (each field change kept) and the lead/sub-contractor hierarchy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from services.supplier.domain.records import Changes, diff, jsonable
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


class SupplierRole(StrEnum):
    """A lead supplier contracts with us directly; a sub-contractor works for a lead supplier."""

    LEAD = "lead"
    SUBCONTRACTOR = "subcontractor"


MAX_HIERARCHY_DEPTH: Final = 20
"""How many leads above a supplier are followed before the chain is refused as too deep."""


def name_key(name: str) -> str:
    """The form under which two supplier names are one supplier: case and spacing do not count."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class Contact:
    """A person at the supplier (theirs, not ours: `supplier_manager` is our side)."""

    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class SupplierRegistered:
    """Domain event: a supplier was registered."""

    supplier_id: UUID
    actor: str


@dataclass(frozen=True)
class SupplierChanged:
    """Domain event: fields of a supplier changed (field -> (old, new), JSON-ready)."""

    supplier_id: UUID
    changes: Changes
    actor: str


EDITABLE_FIELDS: Final = (
    "name",
    "category",
    "status",
    "risk_rating",
    "supplier_manager",
    "contact_email",
    "contacts",
    "service_ids",
    "ci_ids",
    "lead_supplier_id",
)


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
    contacts: tuple[Contact, ...] = ()
    service_ids: tuple[UUID, ...] = ()
    ci_ids: tuple[UUID, ...] = ()
    lead_supplier_id: UUID | None = None
    pending_events: list[SupplierRegistered | SupplierChanged] = field(default_factory=list, compare=False, repr=False)

    @property
    def name_key(self) -> str:
        return name_key(self.name)

    @property
    def role(self) -> SupplierRole:
        return SupplierRole.SUBCONTRACTOR if self.lead_supplier_id is not None else SupplierRole.LEAD

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
        contacts: Sequence[Contact] = (),
        service_ids: Sequence[UUID] = (),
        ci_ids: Sequence[UUID] = (),
        lead_supplier_id: UUID | None = None,
        actor: str = "system",
    ) -> Supplier:
        if not name.strip():
            raise RuleViolation("a supplier needs a name", field="name")
        if lead_supplier_id == supplier_id:
            raise RuleViolation("a supplier cannot be its own lead supplier", field="lead_supplier_id")
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
            contacts=tuple(contacts),
            service_ids=_unique(service_ids),
            ci_ids=_unique(ci_ids),
            lead_supplier_id=lead_supplier_id,
        )
        supplier.pending_events.append(SupplierRegistered(supplier_id, actor))
        return supplier

    def snapshot(self) -> dict[str, Any]:
        """The editable fields as JSON values: what the history and `supplier.updated.v1` compare."""
        return {name: jsonable(getattr(self, name)) for name in EDITABLE_FIELDS}

    def update(self, values: Mapping[str, Any], *, actor: str, now: datetime) -> Changes:
        """Set the given fields; returns the diff (empty when nothing changed: no new version)."""
        unknown = sorted(set(values) - set(EDITABLE_FIELDS))
        if unknown:
            raise RuleViolation.of_fields([(name, "not a field that can be changed") for name in unknown])
        candidate = replace(self, pending_events=[])
        for name, value in values.items():
            if name in ("service_ids", "ci_ids"):
                value = _unique(value)
            elif name == "contacts":
                value = tuple(value)
            setattr(candidate, name, value)
        if not candidate.name.strip():
            raise RuleViolation("a supplier needs a name", field="name")
        if candidate.lead_supplier_id == self.id:
            raise RuleViolation("a supplier cannot be its own lead supplier", field="lead_supplier_id")
        candidate.name = candidate.name.strip()
        changes = diff(self.snapshot(), candidate.snapshot())
        if not changes:
            return {}
        for name in EDITABLE_FIELDS:
            setattr(self, name, getattr(candidate, name))
        self.version += 1
        self.updated_at = now
        self.pending_events.append(SupplierChanged(self.id, changes, actor))
        return changes


def check_lead(supplier_id: UUID, lead_chain: Sequence[UUID]) -> None:
    """Refuse a lead supplier whose own chain of leads (`lead_chain`: the proposed lead, its lead,
    and so on up to the top) comes back to this supplier: the hierarchy must stay a tree."""
    if supplier_id in lead_chain:
        raise RuleViolation(
            "this lead supplier is already a sub-contractor of this supplier (directly or further down): "
            "the hierarchy would loop",
            field="lead_supplier_id",
        )
    if len(lead_chain) > MAX_HIERARCHY_DEPTH:
        raise RuleViolation(
            f"the chain of lead suppliers is deeper than {MAX_HIERARCHY_DEPTH}", field="lead_supplier_id"
        )


def _unique(ids: Sequence[UUID]) -> tuple[UUID, ...]:
    return tuple(dict.fromkeys(ids))
