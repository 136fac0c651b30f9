"""Events published by the reporting service about its improvement register (ISO/IEC 20000-1
4.5.5): an entry raised (from a process's event or by hand), moved along its lifecycle or edited,
and closed with its benefit measured."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventData


class ImprovementEvent(EventData):
    """What every improvement event carries: where the entry stands after the action."""

    improvement_id: UUID
    number: str = Field(examples=["IMP0000001"])
    kind: Literal["improvement", "nonconformity"]
    title: str
    source: str = Field(description="sla_breach, failed_change, post_implementation_review, complaint, survey, ...")
    source_ref: str = Field(description="The record it came from (a change's or complaint's number, ...)")
    owner: str
    target_date: date
    status: str
    previous_status: str | None = None
    measure: str = Field(default="", description="The figure the improvement is meant to move")
    before: float | None = None
    after: float | None = None
    actor: str
    occurred_at: datetime


class ImprovementRaised(ImprovementEvent):
    routing_key: ClassVar[str] = "improvement.raised.v1"
    producer: ClassVar[str] = "reporting"
    description: ClassVar[str] = (
        "An improvement or nonconformity entered the improvement register (ISO/IEC 20000-1 4.5.5)."
    )


class ImprovementUpdated(ImprovementEvent):
    routing_key: ClassVar[str] = "improvement.updated.v1"
    producer: ClassVar[str] = "reporting"
    description: ClassVar[str] = "A register entry was edited or moved along its lifecycle (short of closing)."


class ImprovementClosed(ImprovementEvent):
    routing_key: ClassVar[str] = "improvement.closed.v1"
    producer: ClassVar[str] = "reporting"
    description: ClassVar[str] = "A register entry was closed with its benefit measured (the figures before and after)."
