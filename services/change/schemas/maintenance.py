"""HTTP bodies of maintenance windows."""

from __future__ import annotations

from datetime import time
from uuid import UUID

from pydantic import Field

from services.change.domain.maintenance import MaintenanceWindow
from shared.http import ApiModel


class MaintenanceWindowWrite(ApiModel):
    service_id: UUID = Field(description="The service (a catalogue CI) it belongs to")
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = Field(min_length=1, max_length=64, examples=["Europe/Paris"])
    days: list[int] = Field(min_length=1, max_length=7, description="0 = Monday ... 6 = Sunday")
    start: time = Field(description="Local wall-clock time it opens", examples=["02:00"])
    duration_minutes: int = Field(ge=1, le=7 * 24 * 60)


class MaintenanceWindowRead(MaintenanceWindowWrite):
    id: UUID

    @classmethod
    def of(cls, window: MaintenanceWindow) -> MaintenanceWindowRead:
        return cls.from_record(
            window, days=sorted(window.days), duration_minutes=int(window.duration.total_seconds() // 60)
        )
