"""Business time in a calendar: nights, weekends, holidays, time zones and DST changes (no I/O).

The property tests draw seeded random instants and durations, so a failure is reproducible."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.incident.domain.sla_calendars import BusinessCalendar, WorkingWindow
from shared.errors import RuleViolation

BERLIN = ZoneInfo("Europe/Berlin")
H = 3600


def office(tz: str = "Europe/Berlin", holidays: frozenset[date] = frozenset()) -> BusinessCalendar:
    """Monday to Friday, 09:00-17:00 local time."""
    return BusinessCalendar(tz, dict.fromkeys(range(5), WorkingWindow.parse("09:00", "17:00")), holidays)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


# 2026-11-30 is a Monday.
MON = (2026, 11, 30)


def test_time_inside_one_working_day_counts_in_full() -> None:
    assert office().business_seconds(berlin(*MON, 10), berlin(*MON, 12, 30)) == 2.5 * H


def test_nights_do_not_count() -> None:
    assert office().business_seconds(berlin(*MON, 16), berlin(2026, 12, 1, 10)) == 2 * H


def test_weekends_do_not_count() -> None:
    friday_4pm, monday_10am = berlin(2026, 12, 4, 16), berlin(2026, 12, 7, 10)
    assert office().business_seconds(friday_4pm, monday_10am) == 2 * H


def test_holidays_do_not_count() -> None:
    calendar = office(holidays=frozenset({date(2026, 12, 7)}))
    assert calendar.business_seconds(berlin(2026, 12, 4, 16), berlin(2026, 12, 8, 10)) == 2 * H


def test_a_span_outside_working_hours_is_zero_and_a_reversed_span_too() -> None:
    saturday, sunday = berlin(2026, 12, 5, 12), berlin(2026, 12, 6, 12)
    assert office().business_seconds(saturday, sunday) == 0
    assert office().business_seconds(berlin(*MON, 12), berlin(*MON, 10)) == 0


def test_working_hours_are_those_of_the_calendars_time_zone() -> None:
    new_york = office("America/New_York")
    # 14:00-22:00 UTC is 09:00-17:00 in New York in winter (UTC-5), a whole working day.
    start, end = datetime(2026, 11, 30, 14, tzinfo=UTC), datetime(2026, 11, 30, 22, tzinfo=UTC)
    assert new_york.business_seconds(start, end) == 8 * H
    # the same UTC span in Berlin (15:00-23:00) holds two working hours.
    assert office().business_seconds(start, end) == 2 * H


def test_a_day_around_the_clock_lasts_23_hours_when_clocks_go_forward_and_25_when_they_go_back() -> None:
    always = BusinessCalendar.always("Europe/Berlin")
    assert always.business_seconds(berlin(2026, 3, 28, 12), berlin(2026, 3, 29, 12)) == 23 * H
    assert always.business_seconds(berlin(2026, 10, 24, 12), berlin(2026, 10, 25, 12)) == 25 * H


def test_a_working_day_after_a_dst_change_still_has_its_eight_hours() -> None:
    # Friday 27 March (winter time) 09:00 to Monday 30 March (summer time) 17:00: two whole days.
    assert office().business_seconds(berlin(2026, 3, 27, 9), berlin(2026, 3, 30, 17)) == 16 * H
    # and the due instant four hours into Monday is 13:00 summer time (11:00 UTC).
    due = office().add_business_seconds(berlin(2026, 3, 27, 17), 4 * H)
    assert due == berlin(2026, 3, 30, 13)
    assert due.utcoffset() == timedelta(0)  # returned in UTC
    assert due == datetime(2026, 3, 30, 11, tzinfo=UTC)


def test_the_due_instant_skips_nights_weekends_and_holidays() -> None:
    calendar = office(holidays=frozenset({date(2026, 12, 7)}))
    # Friday 16:00 + 4 business hours: 1 h on Friday, Monday is a holiday, 3 h on Tuesday.
    assert calendar.add_business_seconds(berlin(2026, 12, 4, 16), 4 * H) == berlin(2026, 12, 8, 12)
    # starting at night counts from the next morning
    assert calendar.add_business_seconds(berlin(2026, 12, 1, 22), H) == berlin(2026, 12, 2, 10)
    # nothing to add: the start itself
    assert calendar.add_business_seconds(berlin(2026, 12, 5, 3), 0) == berlin(2026, 12, 5, 3)


def test_a_target_ending_exactly_at_closing_time_is_due_at_closing_time() -> None:
    assert office().add_business_seconds(berlin(*MON, 9), 8 * H) == berlin(*MON, 17)


def test_windows_up_to_midnight_join_the_next_day() -> None:
    evenings = BusinessCalendar("UTC", dict.fromkeys(range(7), WorkingWindow.parse("20:00", "24:00")))
    start = datetime(2026, 12, 1, 23, tzinfo=UTC)
    assert evenings.add_business_seconds(start, 2 * H) == datetime(2026, 12, 2, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: BusinessCalendar("Mars/Olympus", {0: WorkingWindow(540, 1020)}), "time_zone"),
        (lambda: BusinessCalendar("UTC", {}), "working_hours"),
        (lambda: BusinessCalendar("UTC", {7: WorkingWindow(540, 1020)}), "working_hours"),
        (lambda: WorkingWindow.parse("17:00", "09:00"), "working_hours"),
        (lambda: WorkingWindow.parse("09:00", "24:30"), "working_hours"),
        (lambda: WorkingWindow.parse("9h", "17:00"), "working_hours"),
        (lambda: WorkingWindow.parse("09:61", "17:00"), "working_hours"),
    ],
)
def test_an_unusable_calendar_is_refused_naming_the_field(build: object, field: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        build()  # type: ignore[operator]
    assert refused.value.extensions["errors"][0]["field"] == field


# Properties over random instants and durations ---------------------------------------------------

CALENDARS = {
    "office Berlin with holidays": office(holidays=frozenset({date(2026, 3, 30), date(2026, 12, 25)})),
    "office New York": office("America/New_York"),
    "24x7 Berlin": BusinessCalendar.always("Europe/Berlin"),
    "split shifts Sydney": BusinessCalendar(
        "Australia/Sydney",
        {0: WorkingWindow.parse("06:00", "12:00"), 2: WorkingWindow.parse("13:30", "24:00"), 5: WorkingWindow(0, 60)},
    ),
}


def _instants(rng: random.Random, n: int) -> list[datetime]:
    # A year around both DST changes of both hemispheres, to the second.
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return [base + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(n)]


@pytest.mark.parametrize("name", CALENDARS)
def test_the_due_instant_is_exactly_the_remaining_business_time_away(name: str) -> None:
    calendar, rng = CALENDARS[name], random.Random(name)
    for start in _instants(rng, 300):
        seconds = rng.choice([1, 59, 3600, 8 * H, 3 * 86400, rng.randrange(1, 20 * 86400)])
        due = calendar.add_business_seconds(start, seconds)
        assert calendar.business_seconds(start, due) == seconds, (start, seconds, due)
        # and not a second earlier: just before it, some business time is still missing
        assert calendar.business_seconds(start, due - timedelta(seconds=1)) == seconds - 1


@pytest.mark.parametrize("name", CALENDARS)
def test_business_time_adds_up_over_consecutive_spans_and_never_exceeds_wall_time(name: str) -> None:
    calendar, rng = CALENDARS[name], random.Random(name + "split")
    for _ in range(300):
        a, b, c = sorted(_instants(rng, 3))
        whole = calendar.business_seconds(a, c)
        assert whole == calendar.business_seconds(a, b) + calendar.business_seconds(b, c)
        assert 0 <= whole <= (c - a).total_seconds()
