"""Records control events (ISO/IEC 20000-1 4.3.3): a record disposed of at the end of its
retention period, a legal hold placed or released. Published by every service that keeps records
under `shared.retention_store` (`PRODUCERS`), each about its own records (the envelope's `source`
names the service)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventData

PRODUCERS = ("incident", "supplier", "change", "notify")


class RecordDisposed(EventData):
    routing_key: ClassVar[str] = "record.disposed.v1"
    producer: ClassVar[str] = PRODUCERS[0]
    also_produced_by: ClassVar[tuple[str, ...]] = PRODUCERS[1:]
    description: ClassVar[str] = (
        "A record was disposed of at the end of its retention period (ISO/IEC 20000-1 4.3.3): its row,"
        " history and published events are deleted; the disposal log keeps this entry."
    )

    record_type: str = Field(examples=["incident"])
    record_id: UUID
    number: str | None = Field(default=None, examples=["INC0000001"])
    disposed_at: datetime
    policy_version: int = Field(ge=1)
    retain_days: int = Field(ge=1)
    counted_from: str = Field(examples=["closed_at"])
    job_run: UUID = Field(description="The disposal job's pass that disposed of it")


class LegalHoldPlaced(EventData):
    routing_key: ClassVar[str] = "legal_hold.placed.v1"
    producer: ClassVar[str] = PRODUCERS[0]
    also_produced_by: ClassVar[tuple[str, ...]] = PRODUCERS[1:]
    description: ClassVar[str] = (
        "A legal hold was placed on one record or on every record of a type: none of them is disposed"
        " of until it is released or expires (ISO/IEC 20000-1 4.3.3)."
    )

    hold_id: UUID
    record_type: str
    record_id: UUID | None = Field(default=None, description="None: every record of the type")
    reason: str
    placed_by: str
    placed_at: datetime
    until: datetime | None = None


class LegalHoldReleased(EventData):
    routing_key: ClassVar[str] = "legal_hold.released.v1"
    producer: ClassVar[str] = PRODUCERS[0]
    also_produced_by: ClassVar[tuple[str, ...]] = PRODUCERS[1:]
    description: ClassVar[str] = "A legal hold was released: its records follow their retention policy again."

    hold_id: UUID
    record_type: str
    record_id: UUID | None = None
    released_by: str
    released_at: datetime
    reason: str = ""
