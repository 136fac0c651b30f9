"""API bodies of baselines: what to snapshot, a baseline as read, and a comparison."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from services.config.domain.items import CIStatus
from services.config.domain.types import TYPE_NAME
from services.config.schemas.items import ConfigItemRead
from shared.http import ApiModel, Page


class BaselineCreate(ApiModel):
    """A service and everything it depends on (`service_id`), or the CIs of a type and/or status."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    service_id: UUID | None = None
    type: str | None = Field(default=None, pattern=TYPE_NAME.pattern)
    status: CIStatus | None = None


class BaselineRead(ApiModel):
    id: UUID
    name: str
    description: str
    scope: dict[str, Any]
    created_at: datetime
    created_by: str
    item_count: int


BaselinePage = Page[BaselineRead]


class ChangedCI(ApiModel):
    ci_id: UUID
    number: str
    name: str
    changes: dict[str, dict[str, Any]]


class BaselineComparison(ApiModel):
    baseline_id: UUID
    compared_with: str = Field(description="Another baseline's id, or 'now'")
    added: list[ConfigItemRead]
    removed: list[ConfigItemRead]
    changed: list[ChangedCI]
    unchanged: int
