"""HTTP bodies of the incident API, split by direction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from services.incident.domain import Channel, HoldReason, Impact, Incident, IncidentStatus, Urgency
from shared.http import ApiModel, Page


class IncidentCreate(ApiModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    caller: str = Field(min_length=1, max_length=200, description="Who reported it (user id or e-mail)")
    channel: Channel = Channel.API
    impact: Impact = Field(description="1 high, 2 medium, 3 low")
    urgency: Urgency = Field(description="1 high, 2 medium, 3 low")
    ci_id: UUID | None = Field(default=None, description="The configuration item affected")


class IncidentRead(ApiModel):
    id: UUID
    number: str
    title: str
    description: str
    caller: str
    channel: Channel
    impact: Impact
    urgency: Urgency
    priority: int = Field(description="1 critical .. 5 planning, from the impact x urgency matrix")
    status: IncidentStatus
    ci_id: UUID | None
    opened_at: datetime
    updated_at: datetime
    version: int
    assignment_group: str | None
    assignee: str | None
    hold_reason: HoldReason | None
    resolution_code: str | None
    resolution_notes: str
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    allowed_actions: list[str]
    problem_id: UUID | None = Field(default=None, description="The problem it is linked to (8.2)")
    problem_number: str | None = None
    known_error_id: UUID | None = Field(default=None, description="The known error whose workaround it was offered")
    workaround: str | None = Field(default=None, description="The known error's workaround, attached when it matched")
    caused_by_change_id: UUID | None = Field(default=None, description="The change that probably caused it")
    caused_by_change_number: str | None = None

    @classmethod
    def of(cls, item: Incident) -> IncidentRead:
        return cls(
            id=item.id,
            number=item.number,
            title=item.title,
            description=item.description,
            caller=item.caller,
            channel=item.channel,
            impact=item.impact,
            urgency=item.urgency,
            priority=item.priority,
            status=item.status,
            ci_id=item.ci_id,
            opened_at=item.opened_at,
            updated_at=item.updated_at,
            version=item.version,
            assignment_group=item.assignment_group,
            assignee=item.assignee,
            hold_reason=item.hold_reason,
            resolution_code=item.resolution_code,
            resolution_notes=item.resolution_notes,
            first_response_at=item.first_response_at,
            resolved_at=item.resolved_at,
            closed_at=item.closed_at,
            allowed_actions=item.allowed_actions(),
            problem_id=item.problem_id,
            problem_number=item.problem_number,
            known_error_id=item.known_error_id,
            workaround=item.workaround,
            caused_by_change_id=item.caused_by_change_id,
            caused_by_change_number=item.caused_by_change_number,
        )


IncidentPage = Page[IncidentRead]


class Assignment(ApiModel):
    assignment_group: str = Field(min_length=1, max_length=100)
    assignee: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2000, description="Why, when it is a reassignment")


class Hold(ApiModel):
    reason: HoldReason
    note: str = Field(default="", max_length=2000)


class Resolution(ApiModel):
    resolution_code: str = Field(min_length=1, max_length=50, examples=["fixed", "workaround", "no_fault_found"])
    resolution_notes: str = Field(default="", max_length=20_000)


class Reason(ApiModel):
    reason: str = Field(min_length=1, max_length=2000)


class HistoryEntry(ApiModel):
    version: int
    at: datetime
    actor: str
    action: str
    field: str
    old: Any
    new: Any
    reason: str
