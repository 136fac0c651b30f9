"""Unplanned outages and their investigation (ISO/IEC 20000-1 6.3), as pure domain code.

An unplanned outage is what the availability report counts as downtime: an incident on a
service (`service_id` set) that is priority 1 or a major incident; it lasts from the incident's
`opened_at` to its `resolved_at` (the incident records no separate outage start and end). An
outage that lasted longer than the threshold needs an investigation: a problem linked to the
incident. People have a grace period after the resolution to link one themselves; after it,
the incident service opens one (`usecases.outages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

OUTAGE_PRIORITY = 1
"""The priority at which an incident on a service is an outage, major or not."""


@dataclass(frozen=True)
class OutagePolicy:
    threshold: timedelta
    """An outage longer than this needs an investigation."""
    grace: timedelta
    """How long after the resolution people have to link a problem before the service opens one."""


@dataclass(frozen=True)
class Outage:
    """What the rule needs to know of an incident."""

    incident_id: UUID
    number: str
    title: str
    service_id: UUID | None
    priority: int
    major: bool
    opened_at: datetime
    resolved_at: datetime | None
    problem_linked: bool
    assignment_group: str | None = None
    ci_id: UUID | None = None

    @property
    def is_outage(self) -> bool:
        return self.service_id is not None and (self.major or self.priority == OUTAGE_PRIORITY)

    @property
    def duration(self) -> timedelta | None:
        return None if self.resolved_at is None else self.resolved_at - self.opened_at


def over_threshold(outage: Outage, policy: OutagePolicy) -> bool:
    """A resolved unplanned outage that lasted longer than the threshold."""
    duration = outage.duration
    return outage.is_outage and duration is not None and duration > policy.threshold


def lacks_investigation(outage: Outage, policy: OutagePolicy) -> bool:
    """Over the threshold and no problem linked (what reporting lists, grace or not)."""
    return over_threshold(outage, policy) and not outage.problem_linked


def needs_investigation(outage: Outage, policy: OutagePolicy, now: datetime) -> bool:
    """The service opens the investigation itself: over the threshold, no problem linked, and
    the grace period after the resolution is over."""
    return (
        lacks_investigation(outage, policy)
        and outage.resolved_at is not None
        and now >= outage.resolved_at + policy.grace
    )


def investigation_key(incident_id: UUID) -> str:
    """The problem's unique key while it is open: one investigation per outage."""
    return f"outage:{incident_id}"


def investigation_title(outage: Outage, service_name: str | None) -> str:
    service = service_name or str(outage.service_id)
    return f"Outage investigation: {outage.number} on {service}"[:200]


def investigation_description(outage: Outage, service_name: str | None, policy: OutagePolicy) -> str:
    duration = outage.duration
    assert duration is not None and outage.resolved_at is not None
    minutes = int(duration.total_seconds() // 60)
    return (
        f"Opened by the incident service: {outage.number} ({outage.title}) was an unplanned outage of"
        f" {service_name or outage.service_id} for {minutes} min, from {outage.opened_at.isoformat()} to"
        f" {outage.resolved_at.isoformat()}, over the threshold of {int(policy.threshold.total_seconds() // 60)} min,"
        f" and no problem was linked to it within {policy.grace} of its resolution."
    )
