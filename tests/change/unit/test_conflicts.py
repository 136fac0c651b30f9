"""Conflict detection with known answers (no I/O): same CI, dependent CIs, blackouts,
maintenance windows of services, and the policy that turns a kind into a refusal."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from uuid import UUID, uuid4

import pytest

from services.change.domain.maintenance import MaintenanceWindow, covers
from services.change.domain.schedule import (
    Blackout,
    ConflictKind,
    ConflictPolicy,
    Severity,
    Slot,
    Surroundings,
    conflicts,
)
from shared.errors import RuleViolation

T0 = datetime(2026, 12, 1, 22, tzinfo=UTC)  # a Tuesday
DB, WEB, LB, APP, VM = (UUID(int=i) for i in (1, 2, 3, 4, 5))
PAYROLL, MAIL = UUID(int=100), UUID(int=101)


def slot(number: str, start_h: float, hours: float, *cis: UUID, services: frozenset[UUID] = frozenset()) -> Slot:
    start = T0 + timedelta(hours=start_h)
    return Slot(uuid4(), number, start, start + timedelta(hours=hours), frozenset(cis), services)


def blackout(start_h: float, hours: float, *cis: UUID) -> Blackout:
    start = T0 + timedelta(hours=start_h)
    return Blackout(uuid4(), "freeze", start, start + timedelta(hours=hours), frozenset(cis))


# APP runs on VM and depends on DB (direct neighbours of APP); LB is unrelated to APP.
RELATED = Surroundings(related={APP: frozenset({VM, DB}), WEB: frozenset({LB})})


def kinds(found: list) -> list[tuple[str, str, str, tuple[UUID, ...]]]:  # type: ignore[type-arg]
    return [(c.kind, c.severity.value, c.other, c.ci_ids) for c in found]


def test_a_change_on_a_ci_related_to_mine_in_an_overlapping_window_is_a_dependent_conflict() -> None:
    mine = slot("CHG1", 0, 2, APP)
    others = [
        slot("CHG2", 1, 2, DB),  # APP depends on DB: dependent
        slot("CHG3", 1, 2, LB),  # unrelated to APP
        slot("CHG4", 2, 1, VM),  # related but starts when mine ends
        slot("CHG5", -1, 1.5, VM, APP),  # same CI (APP) and a related one (VM): both, each once
    ]
    assert kinds(conflicts(mine, others, [], RELATED)) == [
        ("dependent_ci", "warning", "CHG2", (DB,)),
        ("same_ci", "warning", "CHG5", (APP,)),
        ("dependent_ci", "warning", "CHG5", (VM,)),
    ]


def test_without_relationships_only_the_same_ci_conflicts() -> None:
    mine = slot("CHG1", 0, 2, APP)
    assert conflicts(mine, [slot("CHG2", 1, 2, DB)], []) == []


def test_a_ci_of_mine_related_to_another_of_mine_is_no_dependent_conflict_with_myself() -> None:
    mine = slot("CHG1", 0, 2, APP, DB)
    assert kinds(conflicts(mine, [slot("CHG2", 1, 1, DB)], [], RELATED)) == [("same_ci", "warning", "CHG2", (DB,))]


def test_the_policy_turns_a_kind_into_a_refusal() -> None:
    mine = slot("CHG1", 0, 2, APP)
    strict = ConflictPolicy(frozenset({ConflictKind.DEPENDENT_CI, ConflictKind.SAME_CI}))
    found = conflicts(mine, [slot("CHG2", 1, 2, DB)], [blackout(0, 1)], RELATED, strict)
    assert [(c.kind, c.severity) for c in found] == [
        ("blackout", Severity.WARNING),  # not in this policy's refused kinds
        ("dependent_ci", Severity.REFUSED),
    ]


def test_a_blackout_refuses_by_default() -> None:
    mine = slot("CHG1", 0, 2, DB)
    assert kinds(conflicts(mine, [], [blackout(1, 5)])) == [("blackout", "refused", "freeze", (DB,))]


# Payroll may be changed on Sundays and Wednesdays 02:00-06:00 Paris time.
def payroll_window(days: tuple[int, ...] = (2, 6), hours: float = 4) -> MaintenanceWindow:
    return MaintenanceWindow.define(
        window_id=uuid4(),
        service_id=PAYROLL,
        name="payroll nights",
        time_zone="Europe/Paris",
        days=days,
        start=time(2, 0),
        duration=timedelta(hours=hours),
    )


def paris(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo("Europe/Paris")).astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "end", "inside"),
    [
        (paris(2026, 12, 2, 2), paris(2026, 12, 2, 6), True),  # Wednesday 02:00-06:00, exactly the window
        (paris(2026, 12, 2, 3), paris(2026, 12, 2, 4), True),
        (paris(2026, 12, 2, 5), paris(2026, 12, 2, 7), False),  # runs past 06:00
        (paris(2026, 12, 3, 2), paris(2026, 12, 3, 3), False),  # Thursday
        (paris(2026, 12, 6, 1, 59), paris(2026, 12, 6, 3), False),  # Sunday, starts a minute early
        # Summer time: the window is 02:00 local, i.e. 00:00 UTC (not 01:00 UTC as in winter).
        (paris(2026, 7, 1, 2), paris(2026, 7, 1, 6), True),
        (datetime(2026, 7, 1, 1, tzinfo=UTC), datetime(2026, 7, 1, 4, tzinfo=UTC), True),
        (datetime(2026, 7, 1, 4, tzinfo=UTC), datetime(2026, 7, 1, 5, tzinfo=UTC), False),
    ],
)
def test_a_weekly_window_in_its_time_zone(start: datetime, end: datetime, inside: bool) -> None:
    assert covers([payroll_window()], start, end) is inside


def test_back_to_back_openings_of_a_window_cover_a_change_across_them() -> None:
    every_day_all_day = payroll_window(days=(0, 1, 2, 3, 4, 5, 6), hours=24)
    assert covers([every_day_all_day], paris(2026, 12, 1, 20), paris(2026, 12, 2, 8))


def test_a_change_outside_its_services_windows_conflicts_and_a_service_without_windows_does_not() -> None:
    windows = Surroundings(maintenance={PAYROLL: [payroll_window()]})
    start = paris(2026, 12, 3, 2)  # Thursday
    outside = Slot(uuid4(), "CHG1", start, start + timedelta(hours=1), frozenset(), frozenset({PAYROLL, MAIL}))
    assert kinds(conflicts(outside, [], [], windows)) == [("outside_maintenance_window", "warning", str(PAYROLL), ())]
    start = paris(2026, 12, 2, 2)  # Wednesday
    inside = Slot(uuid4(), "CHG2", start, start + timedelta(hours=1), frozenset(), frozenset({PAYROLL, MAIL}))
    assert conflicts(inside, [], [], windows) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"days": ()}, "days"),
        ({"days": (7,)}, "days"),
        ({"duration": timedelta(0)}, "duration"),
        ({"duration": timedelta(days=8)}, "duration"),
    ],
)
def test_a_window_that_cannot_be_is_refused_naming_the_field(overrides: dict[str, object], field: str) -> None:
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
    with pytest.raises(RuleViolation) as caught:
        MaintenanceWindow.define(**values)  # type: ignore[arg-type]
    assert caught.value.extensions["errors"][0]["field"] == field
