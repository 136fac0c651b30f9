"""Events published by the incident service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventData


class IncidentCreated(EventData):
    routing_key: ClassVar[str] = "incident.created.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An incident was recorded (ISO/IEC 20000-1 8.1)."

    incident_id: UUID
    number: str = Field(examples=["INC0000001"])
    title: str
    status: Literal["new"] = "new"
    impact: int = Field(ge=1, le=3)
    urgency: int = Field(ge=1, le=3)
    priority: int = Field(ge=1, le=5)
    caller: str
    ci_id: UUID | None = None
    opened_at: datetime
