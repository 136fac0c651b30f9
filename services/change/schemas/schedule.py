"""HTTP output of the change schedule: its JSON bodies, and the schedule as iCalendar (RFC 5545) for
calendar clients."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from icalendar import Calendar, Event
from pydantic import AwareDatetime, Field

from services.change.domain.changes import Change
from services.change.domain.schedule import Blackout
from services.change.schemas.changes import ChangeRead
from shared.http import ApiModel


class ConflictRead(ApiModel):
    severity: str = Field(description="refused (keeps the change off the schedule) or warning, as the policy says")
    kind: str = Field(examples=["same_ci", "dependent_ci", "blackout", "outside_maintenance_window"])
    detail: str
    other: str = Field(description="The other change's number, the blackout's name, or the service's id")
    ci_ids: list[UUID]


class BlackoutCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    start: AwareDatetime
    end: AwareDatetime
    ci_ids: list[UUID] = Field(default_factory=list, description="Empty: every CI")


class BlackoutRead(ApiModel):
    id: UUID
    name: str
    start: datetime
    end: datetime
    ci_ids: list[UUID]


class ScheduleEntry(ApiModel):
    change: ChangeRead
    conflicts: list[ConflictRead]


class ScheduleRead(ApiModel):
    start: datetime
    end: datetime
    changes: list[ScheduleEntry]
    blackouts: list[BlackoutRead]


def schedule_ics(changes: Sequence[Change], blackouts: Sequence[Blackout], *, host: str = "itsm") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//ITSM suite//change schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Change schedule")
    stamp = datetime.now(UTC)
    for item in changes:
        if item.planned_start is None or item.planned_end is None:
            continue
        event = Event()
        event.add("uid", f"{item.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", item.planned_start)
        event.add("dtend", item.planned_end)
        event.add("summary", f"{item.number} {item.title}")
        event.add(
            "description", f"{item.change_type.value} change, {item.status.value}; risk {item.risk or 'not assessed'}"
        )
        event.add("status", "CONFIRMED" if item.status.value in ("scheduled", "implementing") else "TENTATIVE")
        event.add("categories", ["change", item.change_type.value])
        calendar.add_component(event)
    for blackout in blackouts:
        event = Event()
        event.add("uid", f"blackout-{blackout.id}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", blackout.start)
        event.add("dtend", blackout.end)
        event.add("summary", f"Blackout: {blackout.name}")
        event.add("transp", "OPAQUE")
        event.add("categories", ["blackout"])
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
