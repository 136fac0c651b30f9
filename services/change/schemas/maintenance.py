"""HTTP bodies of maintenance windows."""

from __future__ import annotations

from datetime import time
from typing import Annotated
from uuid import UUID

from pydantic import Field, WithJsonSchema, field_validator

from services.change.domain.maintenance import MaintenanceWindow
from shared.http import ApiModel

WALL_CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
WallClockTime = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": WALL_CLOCK_PATTERN,
            "description": "Local wall-clock time it opens, HH:MM (served as HH:MM:SS); no offset: the window's"
            " time_zone applies",
            "examples": ["02:00"],
        }
    ),
]
"""A local time of day. Not OpenAPI's `format: time`, which is RFC 3339's full-time and needs an offset."""


class MaintenanceWindowWrite(ApiModel):
    service_id: UUID = Field(description="The service (a catalogue CI) it belongs to")
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = Field(min_length=1, max_length=64, examples=["Europe/Paris"])
    days: list[int] = Field(min_length=1, max_length=7, description="0 = Monday ... 6 = Sunday")
    start: WallClockTime
    duration_minutes: int = Field(ge=1, le=7 * 24 * 60)

    @field_validator("start")
    @classmethod
    def _local(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a local wall-clock time without an offset: the window's time_zone applies")
        return value


class MaintenanceWindowRead(MaintenanceWindowWrite):
    id: UUID

    @classmethod
    def of(cls, window: MaintenanceWindow) -> MaintenanceWindowRead:
        return cls.from_record(
            window, days=sorted(window.days), duration_minutes=int(window.duration.total_seconds() // 60)
        )
