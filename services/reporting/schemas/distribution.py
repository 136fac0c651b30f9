"""HTTP bodies of a run's distribution log."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from shared.http import ApiModel


class DeliveryRead(ApiModel):
    id: UUID
    recipient: str
    channel: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="when it is tried again; null: delivered or given up")
    delivered_at: datetime | None


class DeliveryLog(ApiModel):
    items: list[DeliveryRead]
