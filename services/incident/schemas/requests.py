"""HTTP bodies of the service request API: catalogue items, requests and their actions."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from services.incident.domain.requests import RequestStatus, ServiceRequest
from shared.history import FieldChangeEntry
from shared.http import ApiModel, Page


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
        return cls.from_record(request, allowed_actions=request.allowed_actions())


RequestPage = Page[RequestRead]


class Decision(ApiModel):
    reason: str = Field(default="", max_length=2000)


class Rejection(ApiModel):
    reason: str = Field(min_length=1, max_length=2000)


class Start(ApiModel):
    assignee: str | None = Field(default=None, min_length=1, max_length=200, description="Defaults to you")


class Fulfilment(ApiModel):
    notes: str = Field(default="", max_length=20_000)


class HistoryEntry(FieldChangeEntry):
    pass
