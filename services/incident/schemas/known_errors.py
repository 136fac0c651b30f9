"""HTTP bodies of the known error database."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from services.incident.domain.known_errors import KnownError, KnownErrorStatus
from services.incident.schemas.problems import Category
from shared.http import ApiModel, Page


class KnownErrorCreate(ApiModel):
    title: str = Field(min_length=1, max_length=200)
    symptoms: str = Field(default="", max_length=20_000)
    root_cause: str = Field(min_length=1, max_length=20_000)
    workaround: str = Field(min_length=1, max_length=20_000)
    ci_id: UUID | None = Field(default=None, description="Matched on new incidents on this CI")
    service_id: UUID | None = Field(default=None, description="With category: matched on this service and category")
    category: str | None = Category


class KnownErrorRead(ApiModel):
    id: UUID
    number: str
    problem_id: UUID
    title: str
    symptoms: str
    root_cause: str
    workaround: str
    status: KnownErrorStatus
    ci_id: UUID | None
    service_id: UUID | None
    category: str | None
    usage_count: int = Field(description="Incidents it was offered on")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, item: KnownError) -> KnownErrorRead:
        return cls.from_record(item)


KnownErrorPage = Page[KnownErrorRead]
