"""Events published by the reporting service about its improvement register (ISO/IEC 20000-1
4.5.5): an entry raised (from a process's event or by hand), moved along its lifecycle or edited,
and closed with its benefit measured; and the internal audits
(`audit.*`), whose findings raise entries in it."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

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


# Internal audits (ISO/IEC 20000-1 4.5.4.2), recorded in reporting beside the register


class AuditFindingData(BaseModel):
    """One finding as it stands: its kind, the clause, its corrective action's owner, due date and
    status (none for an observation or opportunity without one), the register entry raised."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["major_nonconformity", "minor_nonconformity", "observation", "opportunity"]
    clause: str
    action_owner: str | None = None
    action_due: date | None = None
    action_status: str | None = None
    improvement_number: str | None = None


class AuditEvent(EventData):
    """What every audit event carries: where the audit stands after the action."""

    audit_id: UUID
    number: str = Field(examples=["AUD0000001"])
    programme_id: UUID
    title: str
    lead_auditor: str
    planned_on: date
    status: str
    previous_status: str | None = None
    findings: list[AuditFindingData] = Field(default_factory=list)
    actor: str
    occurred_at: datetime


class AuditPlanned(AuditEvent):
    routing_key: ClassVar[str] = "audit.planned.v1"
    producer: ClassVar[str] = "reporting"
    description: ClassVar[str] = "An internal audit was planned in its programme (ISO/IEC 20000-1 4.5.4.2)."


class AuditUpdated(AuditEvent):
    routing_key: ClassVar[str] = "audit.updated.v1"
    producer: ClassVar[str] = "reporting"
    description: ClassVar[str] = (
        "An internal audit moved (started, reported, cancelled) or its findings changed: a finding recorded,"
        " a corrective action moved, an improvement raised for a finding."
    )


class AuditClosed(AuditEvent):
    routing_key: ClassVar[str] = "audit.closed.v1"
    producer: ClassVar[str] = "reporting"
    description: ClassVar[str] = "An internal audit was closed: every corrective action done or cancelled."
