"""Events published by the incident service."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
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


class IncidentEvent(EventData):
    """What every later incident event carries (the base of the per-action types)."""

    incident_id: UUID
    number: str
    status: str
    previous_status: str
    priority: int = Field(ge=1, le=5)
    actor: str
    occurred_at: datetime
    changes: dict[str, list[Any]] = Field(default_factory=dict, description="field -> [old, new]")
    reason: str = ""


class IncidentAssigned(IncidentEvent):
    routing_key: ClassVar[str] = "incident.assigned.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An incident was assigned, or reassigned, to a group and maybe a person."

    assignment_group: str
    assignee: str | None = None


class IncidentStatusChanged(IncidentEvent):
    routing_key: ClassVar[str] = "incident.status_changed.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An incident's work started, was put on hold, resumed or cancelled."

    hold_reason: str | None = None


class IncidentResolved(IncidentEvent):
    routing_key: ClassVar[str] = "incident.resolved.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An incident was resolved; it closes on confirmation or after a while."

    resolution_code: str
    resolved_at: datetime
    opened_at: datetime
    first_response_at: datetime | None = None
    ci_id: UUID | None = None


class IncidentClosed(IncidentEvent):
    routing_key: ClassVar[str] = "incident.closed.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An incident was closed."


class IncidentReopened(IncidentEvent):
    routing_key: ClassVar[str] = "incident.reopened.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A resolved incident was reopened within the reopen window."
