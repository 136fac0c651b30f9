"""HTTP bodies of the request catalogue."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from services.incident.domain.catalogue import CatalogueItem
from shared.http import ApiModel


class CatalogueItemWrite(ApiModel):
    name: str = Field(min_length=1, max_length=100, examples=["New laptop"])
    description: str = Field(default="", max_length=20_000)
    service_id: UUID | None = Field(default=None, description="The service it belongs to (SLA policies by service)")
    needs_approval: bool = False
    approver_role: str | None = Field(
        default=None, min_length=1, max_length=50, description="The role that approves it (needed with approval)"
    )
    fulfilment_group: str = Field(min_length=1, max_length=100)
    default_priority: int = Field(default=4, ge=1, le=5)
    active: bool = Field(default=True, description="False: withdrawn, no new requests")

    def to_domain(self, item_id: UUID, version: int) -> CatalogueItem:
        return CatalogueItem(id=item_id, version=version, **self.model_dump())


class CatalogueItemRead(CatalogueItemWrite):
    id: UUID
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, item: CatalogueItem, updated_at: datetime) -> CatalogueItemRead:
        return cls.from_record(item, updated_at=updated_at)
