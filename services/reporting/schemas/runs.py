"""HTTP bodies of stored runs and the findings (with their actions) recorded on them."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from services.reporting.schemas.agreements import Party
from shared.http import ApiModel, Page


class ReportRunRead(ApiModel):
    id: UUID
    report: str
    frequency: str
    period_start: datetime
    period_end: datetime
    generated_at: datetime
    row_count: int
    agreement_version: int | None = Field(description="the agreement version it was produced under")
    content_sha256: str | None = Field(description="SHA-256 of the report as produced (canonical JSON)")
    deliveries: dict[str, int] = Field(default_factory=dict, description="its distribution log by status")
    download: str = Field(description="Where to fetch it (add ?format=csv for CSV)")


ReportRunPage = Page[ReportRunRead]


class ActionBody(ApiModel):
    action: str = Field(min_length=1, max_length=1000)
    owner: str = Field(min_length=1, max_length=200)
    due: date
    communicated_to: list[Party] = Field(
        min_length=1, max_length=50, description="the interested parties the action was communicated to"
    )


class FindingBody(ApiModel):
    text: str = Field(min_length=1, max_length=4000, description="what the report showed")
    actions: list[ActionBody] = Field(default_factory=list, max_length=50, description="what was decided on it")


class FindingRead(ApiModel):
    id: UUID
    run_id: UUID
    text: str
    actions: list[ActionBody]
    recorded_by: str
    recorded_at: datetime


class FindingList(ApiModel):
    items: list[FindingRead]
