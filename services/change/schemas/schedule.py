"""The change schedule as iCalendar (RFC 5545), for calendar clients."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from icalendar import Calendar, Event

from services.change.domain import Change
from services.change.schedule import Blackout


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
