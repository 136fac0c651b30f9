"""Events published by the change service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventData


class ChangeCreated(EventData):
    routing_key: ClassVar[str] = "change.created.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "A change request was recorded in draft (ISO/IEC 20000-1 9.2)."

    change_id: UUID
    number: str = Field(examples=["CHG0000001"])
    title: str
    type: str
    status: str
    requester: str
    created_at: datetime
