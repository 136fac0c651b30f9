"""Incidents as pure domain code: the priority matrix and the incident record (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Final
from uuid import UUID

from shared.errors import RuleViolation


class Impact(IntEnum):
    HIGH = 1
    MEDIUM = 2
    LOW = 3


class Urgency(IntEnum):
    HIGH = 1
    MEDIUM = 2
    LOW = 3


class IncidentStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Channel(StrEnum):
    PORTAL = "portal"
    PHONE = "phone"
    EMAIL = "email"
    MONITORING = "monitoring"
    API = "api"


# ITIL's usual 3 x 3 matrix: 1 critical, 2 high, 3 moderate, 4 low, 5 planning.
DEFAULT_PRIORITY_MATRIX: Final[dict[tuple[Impact, Urgency], int]] = {
    (Impact.HIGH, Urgency.HIGH): 1,
    (Impact.HIGH, Urgency.MEDIUM): 2,
    (Impact.HIGH, Urgency.LOW): 3,
    (Impact.MEDIUM, Urgency.HIGH): 2,
    (Impact.MEDIUM, Urgency.MEDIUM): 3,
    (Impact.MEDIUM, Urgency.LOW): 4,
    (Impact.LOW, Urgency.HIGH): 3,
    (Impact.LOW, Urgency.MEDIUM): 4,
    (Impact.LOW, Urgency.LOW): 5,
}


def priority_for(
    impact: Impact, urgency: Urgency, matrix: dict[tuple[Impact, Urgency], int] = DEFAULT_PRIORITY_MATRIX
) -> int:
    try:
        return matrix[(impact, urgency)]
    except KeyError:
        raise RuleViolation(f"the priority matrix has no entry for impact {impact} and urgency {urgency}") from None


@dataclass(frozen=True)
class IncidentOpened:
    """Domain event: an incident was recorded."""

    incident_id: UUID


@dataclass
class Incident:
    id: UUID
    number: str
    title: str
    description: str
    caller: str
    channel: Channel
    impact: Impact
    urgency: Urgency
    priority: int
    status: IncidentStatus
    ci_id: UUID | None
    opened_at: datetime
    updated_at: datetime
    version: int = 1
    pending_events: list[IncidentOpened] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def open(
        cls,
        *,
        incident_id: UUID,
        number: str,
        title: str,
        description: str,
        caller: str,
        channel: Channel,
        impact: Impact,
        urgency: Urgency,
        ci_id: UUID | None,
        now: datetime,
    ) -> Incident:
        if not title.strip():
            raise RuleViolation("an incident needs a title", field="title")
        incident = cls(
            id=incident_id,
            number=number,
            title=title.strip(),
            description=description,
            caller=caller,
            channel=channel,
            impact=impact,
            urgency=urgency,
            priority=priority_for(impact, urgency),
            status=IncidentStatus.NEW,
            ci_id=ci_id,
            opened_at=now,
            updated_at=now,
        )
        incident.pending_events.append(IncidentOpened(incident_id))
        return incident
