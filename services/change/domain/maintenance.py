"""Maintenance windows of services as pure code: recurring weekly windows in a time zone.

A service may name when it can be changed, for example "Sundays 02:00 for 4 hours,
Europe/Paris". The window is wall-clock time in its zone, so it stays at 02:00 local across a
daylight-saving switch (its UTC instant moves). A change on the service is inside the windows
when the union of their occurrences covers the change's whole window; a service without any
window puts no constraint on its changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import RuleViolation

MAX_DURATION = timedelta(days=7)
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuleViolation(f"{name!r} is not an IANA time zone (e.g. Europe/Paris)", field="time_zone") from exc


@dataclass(frozen=True)
class MaintenanceWindow:
    id: UUID
    service_id: UUID
    name: str
    time_zone: str
    days: frozenset[int]
    """Days of the week it opens on, 0 = Monday ... 6 = Sunday."""
    start: time
    """Local wall-clock time it opens."""
    duration: timedelta

    @classmethod
    def define(
        cls,
        *,
        window_id: UUID,
        service_id: UUID,
        name: str,
        time_zone: str,
        days: Iterable[int],
        start: time,
        duration: timedelta,
    ) -> MaintenanceWindow:
        zone(time_zone)
        opening_days = frozenset(days)
        if not opening_days:
            raise RuleViolation("a maintenance window opens on at least one day", field="days")
        if not opening_days <= set(range(7)):
            raise RuleViolation("days are 0 (Monday) to 6 (Sunday)", field="days")
        if not timedelta(0) < duration <= MAX_DURATION:
            raise RuleViolation("a maintenance window lasts more than 0 minutes and at most 7 days", field="duration")
        if not name.strip():
            raise RuleViolation("a maintenance window needs a name", field="name")
        return cls(window_id, service_id, name.strip(), time_zone, opening_days, start.replace(tzinfo=None), duration)

    def occurrences(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The window's openings (UTC) that overlap [start, end), in order."""
        tz = zone(self.time_zone)
        first = start.astimezone(tz).date() - timedelta(days=self.duration.days + 1)
        last = end.astimezone(tz).date()
        found = []
        day = first
        while day <= last:
            if day.weekday() in self.days:
                local_open = datetime.combine(day, self.start, tzinfo=tz)
                # Wall-clock arithmetic (same tzinfo): "4 hours from 02:00 local" ends at 06:00 local.
                opens, closes = local_open.astimezone(UTC), (local_open + self.duration).astimezone(UTC)
                if opens < end and start < closes:
                    found.append((opens, closes))
            day += timedelta(days=1)
        return found

    def describe(self) -> str:
        days = ", ".join(DAY_NAMES[d] for d in sorted(self.days))
        minutes = int(self.duration.total_seconds() // 60)
        return f"{self.name!r} ({days} {self.start.strftime('%H:%M')} {self.time_zone}, {minutes} min)"


def covers(windows: Iterable[MaintenanceWindow], start: datetime, end: datetime) -> bool:
    """Whether the union of the windows' openings covers [start, end) entirely."""
    openings = sorted(o for w in windows for o in w.occurrences(start, end))
    reached = start
    for opens, closes in openings:
        if opens > reached:
            return False
        reached = max(reached, closes)
        if reached >= end:
            return True
    return reached >= end
