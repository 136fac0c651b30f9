"""HTTP bodies of the incident API, split by direction."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from services.incident.domain import Channel, Impact, Incident, IncidentStatus, Urgency
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
        )


IncidentPage = Page[IncidentRead]
