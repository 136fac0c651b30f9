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
