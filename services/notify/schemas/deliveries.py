"""API bodies of the delivery log and replays."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from services.notify.domain.deliveries import DeliveryStatus
from shared.http import ApiModel, Page


class AttemptRead(ApiModel):
    attempted_at: datetime
    duration_ms: int = Field(description="How long the receiver took to answer (or to fail)")
    status_code: int | None = Field(description="The receiver's HTTP status; null when no answer came")
    error: str | None
    response_excerpt: str | None = Field(description="The start of the receiver's answer (bounded)")

    @classmethod
    def of(cls, row: Any) -> AttemptRead:
        return cls.from_record(row)


class DeliveryRead(ApiModel):
    id: UUID
    subscription_id: UUID
    event_id: UUID
    event_type: str
    event_time: datetime
    replay: bool
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls.from_record(row, status=DeliveryStatus(row.status))


class DeliveryDetail(DeliveryRead):
    log: list[AttemptRead] = Field(description="Every attempt, oldest first")


DeliveryPage = Page[DeliveryRead]


class ReplayRequest(ApiModel):
    event_id: UUID | None = Field(default=None, description="Send this event again")
    since: AwareDatetime | None = Field(default=None, description="Or: the matching events from this time on...")
    until: AwareDatetime | None = Field(default=None, description="...up to (not including) this time")

    @model_validator(mode="after")
    def _one_way(self) -> ReplayRequest:
        if (self.event_id is None) == (self.since is None and self.until is None):
            raise ValueError("give either event_id, or since and until")
        if self.event_id is None and (self.since is None or self.until is None):
            raise ValueError("a time range needs both since and until")
        return self


class ReplayQueued(ApiModel):
    queued: int = Field(description="Deliveries queued by the replay")
