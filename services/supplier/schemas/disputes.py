"""API bodies of disputes: open, a lifecycle step, read, page."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import Field

from services.supplier.domain.disputes import Dispute, DisputeStatus
from services.supplier.schemas.contracts import CURRENCY_PATTERN
from shared.http import ApiModel, Page


class DisputeCreate(ApiModel):
    supplier_id: UUID
    contract_id: UUID | None = None
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    owner: str = Field(min_length=1, max_length=200, description="Who manages it to closure on our side")
    amount: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)
    currency: str | None = Field(default=None, pattern=CURRENCY_PATTERN)


class DisputeStep(ApiModel):
    note: str = Field(default="", max_length=5_000)
    resolution: str | None = Field(default=None, min_length=1, max_length=20_000, description="Required to resolve")


class DisputeRead(ApiModel):
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
    closed_at: datetime | None
    allowed_actions: list[str]
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, d: Dispute) -> DisputeRead:
        return cls.from_record(d, allowed_actions=d.allowed_actions())


DisputePage = Page[DisputeRead]
