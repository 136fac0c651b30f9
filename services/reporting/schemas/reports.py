"""HTTP bodies of the reports: their definitions, a produced report, the incident summary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from shared.http import ApiModel


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
