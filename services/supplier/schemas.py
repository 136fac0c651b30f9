"""HTTP bodies of the supplier API, split by direction."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from services.supplier.domain import RiskRating, Supplier, SupplierCategory, SupplierStatus
from shared.http import ApiModel, Page

# Deliberately loose (one @, a dot in the domain, no spaces): a typo catcher, not RFC 5322.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class SupplierCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200, description="Unique, ignoring case and spacing")
    category: SupplierCategory
    status: SupplierStatus = SupplierStatus.ACTIVE
    risk_rating: RiskRating = RiskRating.MEDIUM
    supplier_manager: str | None = Field(
        default=None, min_length=1, max_length=200, description="Our named owner of the relationship"
    )
    contact_email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)


class SupplierRead(ApiModel):
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
    version: int

    @classmethod
    def of(cls, item: Supplier) -> SupplierRead:
        return cls(
            id=item.id,
            number=item.number,
            name=item.name,
            category=item.category,
            status=item.status,
            risk_rating=item.risk_rating,
            supplier_manager=item.supplier_manager,
            contact_email=item.contact_email,
            created_at=item.created_at,
            updated_at=item.updated_at,
            version=item.version,
        )


SupplierPage = Page[SupplierRead]
