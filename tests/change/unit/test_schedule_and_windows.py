"""Conflicts and maintenance windows at their edges: windows that only touch, blackouts listed after
ones that do not apply, a window's openings and how it is described, and the refusals of a window
that cannot be, with their fields (no I/O)."""

from __future__ import annotations

import time as clock
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from services.change.domain.maintenance import MaintenanceWindow, covers, zone
from services.change.domain.schedule import Blackout, Slot, Surroundings, conflicts
from shared.errors import RuleViolation

T0 = datetime(2026, 12, 1, 22, tzinfo=UTC)
DB, WEB, APP = UUID(int=1), UUID(int=2), UUID(int=3)
PAYROLL = UUID(int=100)
PARIS, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")


def slot(number: str, start_h: float, hours: float, *cis: UUID) -> Slot:
    start = T0 + timedelta(hours=start_h)
    return Slot(uuid4(), number, start, start + timedelta(hours=hours), frozenset(cis))


def blackout(name: str, start_h: float, hours: float, *cis: UUID) -> Blackout:
    start = T0 + timedelta(hours=start_h)
    return Blackout(uuid4(), name, start, start + timedelta(hours=hours), frozenset(cis))


def window(days: tuple[int, ...], start: time, duration: timedelta, tz: str = "Europe/Paris") -> MaintenanceWindow:
    return MaintenanceWindow.define(
        window_id=uuid4(), service_id=PAYROLL, name="w", time_zone=tz, days=days, start=start, duration=duration
    )


def refused_field(refused: pytest.ExceptionInfo[RuleViolation]) -> str:
    assert isinstance(refused.value.detail, str) and refused.value.detail
    (error,) = refused.value.extensions["errors"]
    return str(error["field"])


# ---------------------------------------------------------------------------------------- conflicts


def test_windows_that_only_touch_do_not_conflict_either_way() -> None:
    mine = slot("CHG1", 0, 2, DB)
    before, after = slot("CHG2", -2, 2, DB), slot("CHG3", 2, 1, DB)
    assert conflicts(mine, [before, after], [blackout("ended", -3, 3), blackout("later", 2, 3)]) == []


def test_every_blackout_that_applies_is_listed_after_ones_that_do_not() -> None:
    mine = slot("CHG1", 0, 2, DB)
    found = conflicts(
        mine,
        [],
        [
            blackout("last week", -200, 3),
            blackout("web only", 0, 3, WEB),
            blackout("freeze", 1, 3),
            blackout("db", 1, 1, DB),
        ],
    )
    assert [(c.other, c.ci_ids) for c in found] == [("freeze", (DB,)), ("db", (DB,))]


def test_each_conflict_says_what_it_is_in_words_naming_the_other() -> None:
    mine = Slot(uuid4(), "CHG1", T0, T0 + timedelta(hours=2), frozenset({APP}), frozenset({PAYROLL}))
    around = Surroundings(
        related={APP: frozenset({DB})},
        maintenance={PAYROLL: [window((6,), time(2), timedelta(hours=4))]},  # Sundays only
    )
    found = conflicts(mine, [slot("CHG2", 1, 1, APP, DB)], [blackout("freeze", 0, 1)], around)
    assert [c.kind for c in found] == ["blackout", "same_ci", "dependent_ci", "outside_maintenance_window"]
    for conflict in found:
        assert isinstance(conflict.detail, str) and conflict.other in conflict.detail
    assert "'w' (sunday 02:00 Europe/Paris, 240 min)" in found[-1].detail


def test_a_service_named_without_windows_puts_no_constraint() -> None:
    mine = Slot(uuid4(), "CHG1", T0, T0 + timedelta(hours=2), frozenset(), frozenset({PAYROLL}))
    assert conflicts(mine, [], [], Surroundings(maintenance={})) == []


# ------------------------------------------------------------------------------- maintenance windows


def test_a_window_keeps_what_defines_it_with_its_name_trimmed() -> None:
    window_id = uuid4()
    defined = MaintenanceWindow.define(
        window_id=window_id,
        service_id=PAYROLL,
        name="  payroll nights ",
        time_zone="Europe/Paris",
        days=[6, 2, 6],
        start=time(2, 0, tzinfo=UTC),
        duration=timedelta(days=7),  # the longest a window may last
    )
    assert (defined.id, defined.service_id, defined.name, defined.time_zone) == (
        window_id,
        PAYROLL,
        "payroll nights",
        "Europe/Paris",
    )
    assert (defined.days, defined.start, defined.duration) == (frozenset({2, 6}), time(2, 0), timedelta(days=7))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "  "}, "name"),
        ({"days": ()}, "days"),
        ({"days": (0, 7)}, "days"),
        ({"duration": timedelta(days=7, seconds=1)}, "duration"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"time_zone": "../etc"}, "time_zone"),
    ],
)
def test_a_window_that_cannot_be_is_refused_with_its_reason_and_field(overrides: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "window_id": uuid4(),
        "service_id": PAYROLL,
        "name": "w",
        "time_zone": "Europe/Paris",
        "days": (6,),
        "start": time(2),
        "duration": timedelta(hours=1),
        **overrides,
    }
    with pytest.raises(RuleViolation) as refused:
        MaintenanceWindow.define(**values)  # type: ignore[arg-type]
    assert refused_field(refused) == field
    with pytest.raises(RuleViolation):
        zone("Nowhere/At_All")


def test_a_window_is_described_with_its_days_in_order_local_time_zone_and_minutes() -> None:
    described = window((6, 0, 2), time(2, 30), timedelta(hours=1, minutes=45)).describe()
    assert described == "'w' (monday, wednesday, sunday 02:30 Europe/Paris, 105 min)"


def test_only_the_openings_that_overlap_are_listed_and_touching_ones_are_not() -> None:
    daily = window((0, 1, 2, 3, 4, 5, 6), time(2), timedelta(hours=4))  # 02:00-06:00 Paris, 01:00-05:00 UTC
    start, end = datetime(2026, 12, 2, 5, tzinfo=UTC), datetime(2026, 12, 4, 1, tzinfo=UTC)
    # The opening of the 2nd closes at `start` and the one of the 4th opens at `end`: neither overlaps.
    assert daily.occurrences(start, end) == [
        (datetime(2026, 12, 3, 1, tzinfo=UTC), datetime(2026, 12, 3, 5, tzinfo=UTC)),
    ]
    assert daily.occurrences(start - timedelta(seconds=1), end + timedelta(seconds=1)) == [
        (datetime(2026, 12, 2, 1, tzinfo=UTC), datetime(2026, 12, 2, 5, tzinfo=UTC)),
        (datetime(2026, 12, 3, 1, tzinfo=UTC), datetime(2026, 12, 3, 5, tzinfo=UTC)),
        (datetime(2026, 12, 4, 1, tzinfo=UTC), datetime(2026, 12, 4, 5, tzinfo=UTC)),
    ]


@pytest.fixture
def machine_in_tokyo() -> Iterator[None]:
    """The process's local zone set far from UTC and from the windows' zones, then restored."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "Asia/Tokyo")
        clock.tzset()
        yield
    clock.tzset()


@pytest.mark.usefixtures("machine_in_tokyo")
def test_openings_are_given_in_utc_whatever_the_machines_zone() -> None:
    openings = window((2,), time(2), timedelta(hours=4)).occurrences(
        datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC)
    )
    assert [(o.isoformat(), c.isoformat()) for o, c in openings] == [
        ("2026-12-02T01:00:00+00:00", "2026-12-02T05:00:00+00:00")
    ]


def test_an_opening_from_the_evening_before_covers_a_change_late_the_next_day_west_of_utc() -> None:
    # Mondays 23:00 New York for 23 hours: until Tuesday 22:00 there; 21:00 on Tuesday is already Wednesday in UTC.
    long_night = window((0,), time(23), timedelta(hours=23), tz="America/New_York")
    start = datetime(2026, 12, 1, 21, tzinfo=NEW_YORK)
    assert covers([long_night], start, start + timedelta(minutes=30))


def test_an_opening_just_after_midnight_east_of_utc_is_found_though_utc_is_still_the_day_before() -> None:
    # Every day 00:00-01:00 Paris, i.e. 23:00-24:00 UTC the day before.
    after_midnight = window((0, 1, 2, 3, 4, 5, 6), time(0), timedelta(hours=1))
    start = datetime(2026, 12, 2, 0, 10, tzinfo=PARIS)
    assert covers([after_midnight], start, start + timedelta(minutes=40))


def test_an_empty_stretch_of_time_is_covered_by_any_windows() -> None:
    sunday_only = window((6,), time(2), timedelta(hours=1))
    assert covers([sunday_only], T0, T0)  # a Tuesday, no opening near: nothing to cover
    assert not covers([sunday_only], T0, T0 + timedelta(minutes=1))
