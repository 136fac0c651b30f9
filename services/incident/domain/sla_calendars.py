"""Business calendars for SLA clocks (ISO/IEC 20000-1 6.1; no I/O): working windows per weekday in an
IANA time zone, and holidays.

*Business time* is real elapsed time inside the working windows: a window is placed on the
calendar's local wall clock each day and measured between the two UTC instants it maps to, so
an `00:00-24:00` window lasts 23 h on the day clocks go forward and 25 h on the day they go back.
A window starting inside a skipped hour (02:30 on a spring-forward day) starts when that wall
time exists again under the earlier offset (03:30 summer time); an ambiguous time (autumn) is its
first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import RuleViolation

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY: Final = 24 * 60
SEARCH_DAYS: Final = 3 * 366
"""How far ahead a due instant is looked for before the calendar is called unusable."""


@dataclass(frozen=True)
class WorkingWindow:
    """The working hours of one weekday, in minutes after local midnight (`end_min` up to 1440)."""

    start_min: int
    end_min: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_min < self.end_min <= MINUTES_PER_DAY:
            raise RuleViolation(
                f"working hours {_hhmm(self.start_min)}-{_hhmm(self.end_min)} must start before they end,"
                " within 00:00-24:00",
                field="working_hours",
            )

    @classmethod
    def parse(cls, start: str, end: str) -> WorkingWindow:
        return cls(_minutes(start), _minutes(end))

    def as_text(self) -> tuple[str, str]:
        return _hhmm(self.start_min), _hhmm(self.end_min)


def _minutes(text: str) -> int:
    hours, sep, minutes = text.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise RuleViolation(f"{text!r} is not a time of day as HH:MM", field="working_hours")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY:
        raise RuleViolation(f"{text!r} is not a time of day between 00:00 and 24:00", field="working_hours")
    return value


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str
    windows: Mapping[int, WorkingWindow]
    """Weekday (0 Monday .. 6 Sunday) -> its working window; a weekday not listed is not worked."""
    holidays: frozenset[date] = frozenset()
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise RuleViolation(f"{self.time_zone!r} is not an IANA time zone", field="time_zone") from None
        if not self.windows:
            raise RuleViolation("a calendar needs at least one working day", field="working_hours")
        if any(day not in range(7) for day in self.windows):
            raise RuleViolation("weekdays are 0 (Monday) to 6 (Sunday)", field="working_hours")
        object.__setattr__(self, "zone", zone)

    @classmethod
    def always(cls, time_zone: str = "UTC") -> BusinessCalendar:
        """24 x 7, no holidays."""
        return cls(time_zone, dict.fromkeys(range(7), WorkingWindow(0, MINUTES_PER_DAY)))

    def window_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of a local date as UTC instants, or None on a day off."""
        window = self.windows.get(day.weekday())
        if window is None or day in self.holidays:
            return None
        midnight = datetime.combine(day, time(0), tzinfo=self.zone)
        # Aware + timedelta is wall-clock arithmetic; the offset is that of the resulting wall time.
        start = (midnight + timedelta(minutes=window.start_min)).astimezone(UTC)
        end = (midnight + timedelta(minutes=window.end_min)).astimezone(UTC)
        return start, end

    def _local_day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def business_seconds(self, start: datetime, end: datetime) -> int:
        """Whole business seconds between two instants (0 when `end` is not after `start`)."""
        if end <= start:
            return 0
        total = timedelta(0)
        day = self._local_day(start) - timedelta(days=1)
        last = self._local_day(end)
        while day <= last:
            window = self.window_on(day)
            if window is not None:
                lo, hi = max(window[0], start), min(window[1], end)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return int(total.total_seconds())

    def add_business_seconds(self, start: datetime, seconds: int) -> datetime:
        """The instant (UTC) at which `seconds` of business time have passed since `start`."""
        start = start.astimezone(UTC)
        if seconds <= 0:
            return start
        remaining = timedelta(seconds=seconds)
        day = self._local_day(start) - timedelta(days=1)
        for _ in range(SEARCH_DAYS):
            window = self.window_on(day)
            if window is not None:
                lo = max(window[0], start)
                if window[1] > lo:
                    span = window[1] - lo
                    if remaining <= span:
                        return lo + remaining
                    remaining -= span
            day += timedelta(days=1)
        raise RuleViolation(f"the calendar has no working time within {SEARCH_DAYS} days of {start.isoformat()}")


def working_hours_json(calendar: BusinessCalendar) -> dict[str, list[str]]:
    return {WEEKDAYS[day]: list(w.as_text()) for day, w in sorted(calendar.windows.items())}


def calendar_of(
    time_zone: str, working_hours: dict[str, Sequence[str]], holidays: Iterable[str | date]
) -> BusinessCalendar:
    windows = {WEEKDAYS.index(day): WorkingWindow.parse(*hours) for day, hours in working_hours.items()}
    days = frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in holidays)
    return BusinessCalendar(time_zone, windows, days)
