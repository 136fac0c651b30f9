"""HTTP bodies of the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
