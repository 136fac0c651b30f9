"""API bodies of suppliers: create, update, read, page (and their contacts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field, model_validator

from services.supplier.domain.suppliers import (
    Contact,
    RiskRating,
    Supplier,
    SupplierCategory,
    SupplierRole,
    SupplierStatus,
)
from shared.http import ApiModel, Page

# Deliberately loose (one @, a dot in the domain, no spaces): a typo catcher, not RFC 5322.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class ContactBody(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    phone: str | None = Field(default=None, max_length=50)
    role: str | None = Field(default=None, max_length=100, description="Their role: account manager, service desk...")

    def to_domain(self) -> Contact:
        return Contact(self.name, self.email, self.phone, self.role)


class SupplierCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200, description="Unique, ignoring case and spacing")
    category: SupplierCategory
    status: SupplierStatus = SupplierStatus.ACTIVE
    risk_rating: RiskRating = RiskRating.MEDIUM
    supplier_manager: str | None = Field(
        default=None, min_length=1, max_length=200, description="Our named owner of the relationship"
    )
    contact_email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    contacts: list[ContactBody] = Field(default_factory=list, max_length=50)
    service_ids: list[UUID] = Field(default_factory=list, max_length=500, description="Services they supply (CIs)")
    ci_ids: list[UUID] = Field(default_factory=list, max_length=500, description="CIs they supply or support")
    lead_supplier_id: UUID | None = Field(default=None, description="Set for a sub-contractor: its lead supplier")


class SupplierUpdate(ApiModel):
    """Only the fields sent change; `lead_supplier_id: null` makes a sub-contractor a lead supplier."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    category: SupplierCategory | None = None
    status: SupplierStatus | None = None
    risk_rating: RiskRating | None = None
    supplier_manager: str | None = Field(default=None, min_length=1, max_length=200)
    contact_email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    contacts: list[ContactBody] | None = Field(default=None, max_length=50)
    service_ids: list[UUID] | None = Field(default=None, max_length=500)
    ci_ids: list[UUID] | None = Field(default=None, max_length=500)
    lead_supplier_id: UUID | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> SupplierUpdate:
        for name in ("name", "category", "status", "risk_rating", "contacts", "service_ids", "ci_ids"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def values(self) -> dict[str, Any]:
        sent = {name: getattr(self, name) for name in self.model_fields_set}
        if "contacts" in sent:
            sent["contacts"] = [c.to_domain() for c in self.contacts or []]
        return sent


class SupplierRead(ApiModel):
    id: UUID
    number: str
    name: str
    category: SupplierCategory
    status: SupplierStatus
    risk_rating: RiskRating
    supplier_manager: str | None
    contact_email: str | None
    contacts: list[ContactBody]
    service_ids: list[UUID]
    ci_ids: list[UUID]
    role: SupplierRole
    lead_supplier_id: UUID | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, item: Supplier) -> SupplierRead:
        return cls.from_record(
            item,
            contacts=[ContactBody(name=c.name, email=c.email, phone=c.phone, role=c.role) for c in item.contacts],
            service_ids=list(item.service_ids),
            ci_ids=list(item.ci_ids),
        )


SupplierPage = Page[SupplierRead]
