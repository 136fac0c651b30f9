"""HTTP bodies of the change API, split by direction."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, Field

from services.change.domain import Change, ChangeStatus, ChangeType
from shared.http import ApiModel, Page


class ChangeCreate(ApiModel):
    """The requester is the caller (the token's subject), never a body field."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    justification: str = Field(
        default="", max_length=20_000, description="Why the change is needed; required for an emergency change"
    )
    type: ChangeType = ChangeType.NORMAL
    category: str | None = Field(default=None, min_length=1, max_length=50, examples=["software"])
    planned_start: AwareDatetime | None = None
    planned_end: AwareDatetime | None = Field(default=None, description="After planned_start")
    affected_ci_ids: list[UUID] = Field(default_factory=list, max_length=500, description="Configuration items")


class ChangeRead(ApiModel):
    id: UUID
    number: str
    title: str
    description: str
    justification: str
    type: ChangeType
    category: str | None
    status: ChangeStatus
    requester: str
    planned_start: datetime | None
    planned_end: datetime | None
    affected_ci_ids: list[UUID]
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, item: Change) -> ChangeRead:
        return cls(
            id=item.id,
            number=item.number,
            title=item.title,
            description=item.description,
            justification=item.justification,
            type=item.change_type,
            category=item.category,
            status=item.status,
            requester=item.requester,
            planned_start=item.planned_start,
            planned_end=item.planned_end,
            affected_ci_ids=list(item.affected_ci_ids),
            created_at=item.created_at,
            updated_at=item.updated_at,
            version=item.version,
        )


ChangePage = Page[ChangeRead]
