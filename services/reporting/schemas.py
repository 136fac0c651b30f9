"""HTTP bodies of the reporting API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from shared.http import ApiModel, Page


class EventRead(ApiModel):
    id: str
    type: str
    source: str
    subject: str | None
    time: datetime
    data: dict[str, Any]
    received_at: datetime


EventPage = Page[EventRead]


class IncidentSummaryRead(ApiModel):
    total: int
    by_status: dict[str, int] = Field(description="Incidents per status")
    by_priority: dict[str, int] = Field(description="Incidents per priority, 1 (critical) to 5 (planning)")


class ReportDefinitionRead(ApiModel):
    name: str
    title: str
    purpose: str
    audience: list[str]
    frequency: str = Field(description="daily, weekly or monthly: how often a run is stored")
    data_source: str
    filters: list[str]
    period_applies_to: str
    columns: list[str] = Field(description="The row fields, in order (the CSV header)")
    column_descriptions: dict[str, str]


class ReportDefinitions(ApiModel):
    items: list[ReportDefinitionRead]


class ReportBody(ApiModel):
    """A produced report (the JSON form; CSV holds `rows` only)."""

    report: str
    definition: ReportDefinitionRead
    filters: dict[str, Any]
    generated_at: datetime
    rows: list[dict[str, Any]]
    totals: dict[str, Any]


class RebuildRead(ApiModel):
    events: int = Field(description="Events replayed from the log")
    patches: int = Field(description="Fact row updates applied")
