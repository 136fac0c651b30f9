"""HTTP bodies of the service request API: catalogue items, requests and their actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from services.incident.requests.domain import CatalogueItem, RequestStatus, ServiceRequest
from shared.http import ApiModel, Page


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
        return cls(
            id=item.id,
            name=item.name,
            description=item.description,
            service_id=item.service_id,
            needs_approval=item.needs_approval,
            approver_role=item.approver_role,
            fulfilment_group=item.fulfilment_group,
            default_priority=item.default_priority,
            active=item.active,
            version=item.version,
            updated_at=updated_at,
        )


class RequestCreate(ApiModel):
    catalogue_item_id: UUID
    title: str = Field(default="", max_length=200, description="Defaults to the item's name")
    description: str = Field(default="", max_length=20_000)
    requested_for: str | None = Field(default=None, min_length=1, max_length=200, description="Defaults to you")
    priority: int | None = Field(default=None, ge=1, le=5, description="Defaults to the item's")


class RequestRead(ApiModel):
    id: UUID
    number: str
    title: str
    description: str
    catalogue_item_id: UUID
    catalogue_item: str
    service_id: UUID | None
    needs_approval: bool
    approver_role: str | None
    requester: str
    requested_for: str
    priority: int
    status: RequestStatus
    assignment_group: str
    assignee: str | None
    approver: str | None
    submitted_at: datetime
    updated_at: datetime
    version: int
    decided_at: datetime | None
    fulfilment_started_at: datetime | None
    fulfilled_at: datetime | None
    fulfilment_notes: str
    closed_at: datetime | None
    allowed_actions: list[str]

    @classmethod
    def of(cls, request: ServiceRequest) -> RequestRead:
        values = {name: getattr(request, name) for name in cls.model_fields if name != "allowed_actions"}
        return cls(**values, allowed_actions=request.allowed_actions())


RequestPage = Page[RequestRead]


class Decision(ApiModel):
    reason: str = Field(default="", max_length=2000)


class Rejection(ApiModel):
    reason: str = Field(min_length=1, max_length=2000)


class Start(ApiModel):
    assignee: str | None = Field(default=None, min_length=1, max_length=200, description="Defaults to you")


class Fulfilment(ApiModel):
    notes: str = Field(default="", max_length=20_000)


class HistoryEntry(ApiModel):
    version: int
    at: datetime
    actor: str
    action: str
    field: str
    old: Any
    new: Any
    reason: str
