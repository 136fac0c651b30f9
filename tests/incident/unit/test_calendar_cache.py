"""Stored calendars are parsed once per distinct content (every create reads its policy's
calendar): the same content gives the same parsed calendar, changed content a new one."""

from __future__ import annotations

from datetime import date

from services.incident.domain.sla_calendars import calendar_of
from services.incident.store.sla_calendars import stored_calendar

HOURS = {"mon": ["08:00", "18:00"], "tue": ["08:00", "18:00"]}


def test_the_same_stored_content_is_parsed_once() -> None:
    first = stored_calendar("Europe/Zurich", HOURS, ["2026-12-25"])
    again = stored_calendar("Europe/Zurich", {"tue": ["08:00", "18:00"], "mon": ["08:00", "18:00"]}, ["2026-12-25"])
    assert again is first
    assert first == calendar_of("Europe/Zurich", HOURS, ["2026-12-25"])


def test_an_edited_calendar_is_never_answered_from_the_old_entry() -> None:
    before = stored_calendar("Europe/Zurich", HOURS, ["2026-12-25"])
    hours = stored_calendar("Europe/Zurich", {**HOURS, "tue": ["09:00", "17:00"]}, ["2026-12-25"])
    holidays = stored_calendar("Europe/Zurich", HOURS, ["2026-12-25", "2026-12-26"])
    zone = stored_calendar("Europe/Berlin", HOURS, ["2026-12-25"])
    assert len({id(c) for c in (before, hours, holidays, zone)}) == 4
    assert hours.windows[1] != before.windows[1]
    assert date(2026, 12, 26) in holidays.holidays and date(2026, 12, 26) not in before.holidays
    assert zone.time_zone == "Europe/Berlin"
