"""Projections as pure code: what each event changes in the reporting read models (no I/O).

A projection is a function of the events of one subject, applied in order; replaying the log
through the same functions rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from shared.events import CloudEvent
from shared.events.incident import (
    IncidentAssigned,
    IncidentClosed,
    IncidentCreated,
    IncidentEvent,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
)

_LIFECYCLE = {
    c.routing_key for c in (IncidentAssigned, IncidentStatusChanged, IncidentResolved, IncidentClosed, IncidentReopened)
}


@dataclass(frozen=True)
class IncidentFacts:
    """One row of the incident projection."""

    incident_id: UUID
    number: str
    status: str
    priority: int
    opened_at: datetime
    updated_at: datetime

    def as_row(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "number": self.number,
            "status": self.status,
            "priority": self.priority,
            "opened_at": self.opened_at,
            "updated_at": self.updated_at,
        }


def incident_facts(event: CloudEvent) -> IncidentFacts | None:
    """The incident row an event sets, or None when the event does not concern incidents."""
    if event.routing_key == IncidentCreated.routing_key:
        created = event.data_as(IncidentCreated)
        return IncidentFacts(
            incident_id=created.incident_id,
            number=created.number,
            status=created.status,
            priority=created.priority,
            opened_at=created.opened_at,
            updated_at=event.time,
        )
    if event.routing_key in _LIFECYCLE:
        later = event.data_as(IncidentEvent)
        return IncidentFacts(
            incident_id=later.incident_id,
            number=later.number,
            status=later.status,
            priority=later.priority,
            opened_at=event.time,  # used only if the created event has not arrived yet
            updated_at=later.occurred_at,
        )
    return None


@dataclass(frozen=True)
class IncidentSummary:
    total: int
    by_status: dict[str, int]
    by_priority: dict[str, int]


def summarise(counts: list[tuple[str, int, int]]) -> IncidentSummary:
    """Fold (status, priority, count) groups into the summary report."""
    by_status: dict[str, int] = {}
    by_priority: dict[str, int] = {str(p): 0 for p in range(1, 6)}
    for status, priority, count in counts:
        by_status[status] = by_status.get(status, 0) + count
        by_priority[str(priority)] = by_priority.get(str(priority), 0) + count
    return IncidentSummary(total=sum(c for _, _, c in counts), by_status=by_status, by_priority=by_priority)
