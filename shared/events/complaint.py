"""Events published by the incident service about service complaints (ISO/IEC 20000-1 7.1); beside
`incident.py`, which holds the service's other events."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventData


class ComplaintLinkData(BaseModel):
    """A record the complaint concerns; `number` is absent for a supplier."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["incident", "request", "change", "supplier"]
    id: UUID
    number: str | None = None


class ComplaintEvent(EventData):
    """What every complaint event carries: where the complaint stands after the action."""

    complaint_id: UUID
    number: str = Field(examples=["CMP0000001"])
    title: str
    status: str
    previous_status: str | None = None
    complainant: str
    received_via: str
    category: str | None = None
    service_id: UUID | None = None
    owner: str | None = None
    relationship_manager: str | None = None
    received_at: datetime
    acknowledge_due_at: datetime
    respond_due_at: datetime
    links: list[ComplaintLinkData] = Field(default_factory=list, description="Every record linked so far")
    actor: str
    occurred_at: datetime
    reason: str = ""


class ComplaintReceived(ComplaintEvent):
    routing_key: ClassVar[str] = "complaint.received.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A service complaint was recorded (ISO/IEC 20000-1 7.1)."


class ComplaintAcknowledged(ComplaintEvent):
    routing_key: ClassVar[str] = "complaint.acknowledged.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A complaint was acknowledged to the complainant; it has an owner."

    acknowledged_at: datetime
    acknowledge_breached: bool = Field(description="Acknowledged after its acknowledge target")


class ComplaintInvestigationStarted(ComplaintEvent):
    routing_key: ClassVar[str] = "complaint.investigation_started.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A complaint is under investigation (first time, or again)."


class ComplaintActionTaken(ComplaintEvent):
    routing_key: ClassVar[str] = "complaint.action_taken.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "Action was taken on a complaint."

    actions_taken: str


class ComplaintResolved(ComplaintEvent):
    routing_key: ClassVar[str] = "complaint.resolved.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = (
        "A complaint's outcome was put to the complainant: resolved, pending their confirmation."
    )

    resolution: str
    responded_at: datetime
    respond_breached: bool = Field(description="Responded to after its respond target")


class ComplaintClosed(ComplaintEvent):
    routing_key: ClassVar[str] = "complaint.closed.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A complaint was formally closed, confirmed by the complainant or not (saying why)."

    closed_at: datetime
    closure_reason: str
    closure_confirmed_by_customer: bool


class ComplaintEscalated(ComplaintEvent):
    routing_key: ClassVar[str] = "complaint.escalated.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = (
        "A complaint not resolved through the normal channels was escalated to the customer's relationship manager."
    )

    escalated_to: str
    escalation_level: int = Field(ge=1)


class ComplaintReopened(ComplaintEvent):
    routing_key: ClassVar[str] = "complaint.reopened.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "The complainant was not satisfied: the complaint was reopened."


class ComplaintUpdated(ComplaintEvent):
    routing_key: ClassVar[str] = "complaint.updated.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A complaint's fields were edited, or records it concerns were linked."

    changes: dict[str, list[Any]] = Field(default_factory=dict, description="field -> [old, new]")
    added_links: list[ComplaintLinkData] = Field(default_factory=list)
