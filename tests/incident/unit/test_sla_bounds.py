"""SLA rules at their edges: the bounds of a policy's targets, priority and warning share, the
response clock under a new policy, what a stopped or paused clock says of its due instant, the
`HH:MM` parser and the shapes of a calendar (no I/O)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.incident.domain.sla import (
    ClockState,
    Escalation,
    EscalationKind,
    SlaClock,
    SlaPolicy,
    SlaTarget,
    TicketKind,
    incident_clock_states,
    select_policy,
)
from services.incident.domain.sla_calendars import (
    SEARCH_DAYS,
    BusinessCalendar,
    WorkingWindow,
    calendar_of,
    working_hours_json,
)
from shared.errors import RuleViolation

H = 3600
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar("Europe/Berlin", dict.fromkeys(range(5), WorkingWindow.parse("09:00", "17:00")))
R, S = SlaTarget.RESPONSE, SlaTarget.RESOLUTION


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in Berlin; the 7th is a Monday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


def policy(**overrides: Any) -> SlaPolicy:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "name": "P3",
        "ticket_kind": TicketKind.INCIDENT,
        "service_id": None,
        "priority": 3,
        "response_s": 2 * H,
        "resolution_s": 8 * H,
        "calendar_id": uuid.uuid4(),
    }
    values.update(overrides)
    return SlaPolicy(**values)


def fields_of(refused: pytest.ExceptionInfo[RuleViolation]) -> list[str]:
    assert isinstance(refused.value.detail, str) and refused.value.detail
    return [e["field"] for e in refused.value.extensions["errors"]]


# ---------------------------------------------------------------- policy bounds


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"name": "  "}, ["name"]),
        ({"priority": 0}, ["priority"]),
        ({"priority": 6}, ["priority"]),
        ({"response_s": 0}, ["response_target_s"]),
        ({"response_s": -1}, ["response_target_s"]),
        ({"resolution_s": 0, "response_s": 1}, ["resolution_target_s"]),
        ({"response_s": 8 * H + 1}, ["response_target_s"]),
        ({"warn_share": 0.0}, ["warning_share"]),
        ({"warn_share": 1.0}, ["warning_share"]),
        ({"name": "", "priority": 9, "warn_share": 2.0}, ["name", "priority", "warning_share"]),
    ],
)
def test_a_policy_outside_the_bounds_is_refused_naming_each_field(overrides: dict[str, Any], fields: list[str]) -> None:
    with pytest.raises(RuleViolation) as refused:
        policy(**overrides)
    assert fields_of(refused) == fields


@pytest.mark.parametrize(
    "overrides",
    [
        {"priority": 1},
        {"priority": 5},
        {"response_s": 1, "resolution_s": 1},  # as long as the resolution target: allowed
        {"response_s": 8 * H},
        {"warn_share": 0.01},
        {"warn_share": 0.99},
        {"warn_share": None},
    ],
)
def test_a_policy_at_the_bounds_is_accepted(overrides: dict[str, Any]) -> None:
    made = policy(**overrides)
    for name, value in overrides.items():
        assert getattr(made, name) == value


def test_the_default_warning_share_is_three_quarters_of_each_target() -> None:
    made = policy()
    assert made.warn_share == 0.75
    assert (made.warn_s(R), made.warn_s(S)) == (int(1.5 * H), 6 * H)
    assert (made.target_s(R), made.target_s(S)) == (2 * H, 8 * H)
    assert policy(warn_share=None).warn_s(S) is None


def test_the_warning_threshold_is_whole_seconds_rounded_down() -> None:
    made = policy(response_s=10, resolution_s=10, warn_share=0.75)
    assert made.warn_s(R) == 7


def test_a_policy_has_no_escalation_unless_configured() -> None:
    made = policy()
    assert (made.escalation(breached=False), made.escalation(breached=True)) == (None, None)


def test_escalations_need_a_non_blank_group_and_people_to_notify() -> None:
    with pytest.raises(RuleViolation) as no_group:
        Escalation(EscalationKind.FUNCTIONAL, to_group="  ")
    assert fields_of(no_group) == ["to_group"]
    with pytest.raises(RuleViolation) as nobody:
        Escalation(EscalationKind.HIERARCHICAL)
    assert fields_of(nobody) == ["notify"]
    assert Escalation(EscalationKind.FUNCTIONAL, to_group="l2").notify == ()


def test_a_request_policy_is_not_chosen_for_an_incident_even_as_the_only_default() -> None:
    requests = policy(ticket_kind=TicketKind.REQUEST)
    assert select_policy([requests], TicketKind.INCIDENT, None, 3) is None
    assert select_policy([requests], TicketKind.REQUEST, uuid.uuid4(), 3) is requests


def test_another_services_policy_is_not_chosen() -> None:
    theirs = policy(service_id=uuid.uuid4())
    default = policy()
    assert select_policy([theirs], TicketKind.INCIDENT, uuid.uuid4(), 3) is None
    assert select_policy([theirs, default], TicketKind.INCIDENT, None, 3) is default
    assert select_policy([default, theirs], TicketKind.INCIDENT, theirs.service_id, 3) is theirs


# ---------------------------------------------------------------- the response clock


def test_a_response_clock_is_due_after_the_response_target() -> None:
    clock = SlaClock.start(R, policy(), OFFICE, at(7, 9))
    assert (clock.target, clock.target_s, clock.warn_s) == (R, 2 * H, int(1.5 * H))
    assert (clock.due_at, clock.warn_at) == (at(7, 11), at(7, 10, 30))
    assert (clock.started_at, clock.since) == (at(7, 9), at(7, 9))
    assert (clock.warned, clock.breached, clock.stopped_at, clock.pauses) == (False, False, None, 0)


def test_retargeting_a_response_clock_plans_against_the_new_response_target() -> None:
    start = policy(response_s=4 * H, resolution_s=16 * H)
    urgent = policy(priority=1, response_s=2 * H, resolution_s=4 * H, warn_share=0.5)
    clock = SlaClock.start(R, start, OFFICE, at(7, 9))
    clock.retarget(OFFICE, urgent, at(7, 10))
    assert (clock.target_s, clock.warn_s, clock.policy_id) == (2 * H, H, urgent.id)
    assert (clock.elapsed_s, clock.since) == (H, at(7, 10))
    assert clock.due_at == at(7, 11)  # 1 h used, 1 h of the new 2 h left
    assert clock.warn_at == at(7, 10)  # the new warning (1 h) is reached at the change


def test_retargeting_to_the_same_policy_keeps_the_planned_instants() -> None:
    same = policy()
    clock = SlaClock.start(R, same, OFFICE, at(7, 9))
    clock.retarget(OFFICE, same, at(7, 10))
    assert (clock.elapsed_s, clock.due_at, clock.warn_at) == (H, at(7, 11), at(7, 10, 30))


def test_a_new_policy_with_the_same_targets_is_recorded_on_the_clock() -> None:
    first, second = policy(), policy()
    clock = SlaClock.start(S, first, OFFICE, at(7, 9))
    clock.retarget(OFFICE, second, at(7, 10))
    assert (clock.policy_id, clock.due_at) == (second.id, at(7, 17))


def test_a_new_warning_share_alone_moves_the_warning() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.retarget(OFFICE, policy(warn_share=0.5), at(7, 10))
    assert (clock.warn_s, clock.warn_at, clock.due_at) == (4 * H, at(7, 13), at(7, 17))


def test_a_warning_raised_and_passed_again_keeps_its_instant_under_a_new_policy() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 16))  # 7 h used: the warning (6 h) passed at 15:00
    clock.warned = True
    clock.retarget(OFFICE, policy(warn_share=0.5), at(7, 16, 30))  # new warning at 4 h: passed too
    assert clock.warn_at == at(7, 15)  # when it was raised, not the change


def test_a_warning_not_raised_yet_that_a_new_policy_has_passed_is_due_at_the_change() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 16))
    clock.retarget(OFFICE, policy(warn_share=0.5), at(7, 16, 30))
    assert clock.warn_at == at(7, 16, 30)


def test_a_warning_raised_is_not_shown_while_a_new_policy_puts_it_out_of_reach() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 16))
    clock.warned = True
    clock.retarget(OFFICE, policy(resolution_s=16 * H), at(7, 16, 30))  # new warning at 12 h
    assert (clock.warned, clock.warn_at, clock.due_at) == (True, None, None)


def test_a_cancelled_clock_ignores_a_new_policy() -> None:
    clock = SlaClock.start(R, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.CANCELLED, at(7, 10))
    old = clock.policy_id
    clock.retarget(OFFICE, policy(response_s=H), at(7, 12))
    assert (clock.policy_id, clock.target_s, clock.elapsed_s, clock.since) == (old, 2 * H, H, at(7, 10))
    assert clock.state is ClockState.CANCELLED


def test_a_breach_raised_keeps_its_instant_when_a_tighter_target_is_passed_too() -> None:
    clock = SlaClock.start(R, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 12))  # due at 11:00, passed
    clock.breached = True
    clock.retarget(OFFICE, policy(response_s=H), at(7, 13))
    assert clock.due_at == at(7, 11)
    unraised = SlaClock.start(R, policy(), OFFICE, at(7, 9))
    unraised.move(OFFICE, ClockState.PAUSED, at(7, 12))
    unraised.retarget(OFFICE, policy(response_s=H), at(7, 13))
    assert unraised.due_at == at(7, 13)


# ---------------------------------------------------------------- moves and due instants


def test_a_move_to_the_current_state_changes_nothing() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.RUNNING, at(7, 12))
    assert (clock.elapsed_s, clock.since, clock.pauses, clock.due_at) == (0, at(7, 9), 0, at(7, 17))


def test_a_move_back_in_time_counts_nothing_and_keeps_the_later_instant() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 10))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 9))
    assert (clock.elapsed_s, clock.since) == (0, at(7, 10))


def test_a_cancelled_clock_records_when_it_stopped_and_a_resumed_one_forgets_its_stop() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.CANCELLED, at(7, 10))
    assert (clock.stopped_at, clock.elapsed_s) == (at(7, 10), H)
    paused = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    paused.move(OFFICE, ClockState.PAUSED, at(7, 10))
    assert paused.stopped_at is None


def test_a_cancelled_clock_keeps_the_instants_already_raised() -> None:
    clock = SlaClock.start(R, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 12))  # warning 10:30 and due 11:00 passed
    clock.warned = clock.breached = True
    clock.move(OFFICE, ClockState.CANCELLED, at(7, 12))
    assert (clock.warn_at, clock.due_at) == (at(7, 10, 30), at(7, 11))


def test_the_due_instant_of_a_paused_clock_is_where_it_would_be_had_it_run_on() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 11))
    assert clock.due_at is None
    assert clock.due_instant(OFFICE) == at(7, 17)  # 6 h left from 11:00
    running = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    assert running.due_instant(OFFICE) == at(7, 17)
    cancelled = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    cancelled.move(OFFICE, ClockState.CANCELLED, at(7, 11))
    assert cancelled.due_instant(OFFICE) is None


def test_the_elapsed_time_of_a_stopped_clock_no_longer_grows() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.STOPPED, at(7, 11))
    assert clock.elapsed_at(OFFICE, at(8, 17)) == 2 * H


def test_a_clock_one_second_over_its_target_is_not_met() -> None:
    clock = SlaClock.start(R, policy(response_s=10, resolution_s=20), BusinessCalendar.always(), at(7, 9))
    clock.move(BusinessCalendar.always(), ClockState.STOPPED, at(7, 9) + timedelta(seconds=11))
    assert (clock.elapsed_s, clock.met()) == (11, False)


def test_a_clock_started_stopped_has_nothing_to_raise() -> None:
    clock = SlaClock.start(R, policy(), OFFICE, at(7, 9), ClockState.STOPPED)
    assert (clock.state, clock.stopped_at, clock.pauses) == (ClockState.STOPPED, at(7, 9), 0)
    assert (clock.due_at, clock.warn_at, clock.next_alert_at) == (None, None, None)


def test_without_a_warning_the_next_alert_is_the_due_instant() -> None:
    clock = SlaClock.start(S, policy(warn_share=None), OFFICE, at(7, 9))
    assert clock.next_alert_at == at(7, 17)


def test_the_response_clock_stops_once_responded_or_done() -> None:
    assert incident_clock_states("new", responded=True)[R] is ClockState.STOPPED
    assert incident_clock_states("resolved", responded=False)[R] is ClockState.STOPPED
    assert incident_clock_states("closed", responded=False) == {R: ClockState.STOPPED, S: ClockState.STOPPED}
    assert incident_clock_states("on_hold", responded=False) == {R: ClockState.RUNNING, S: ClockState.PAUSED}


# ---------------------------------------------------------------- the HH:MM parser and calendars


@pytest.mark.parametrize(
    ("text", "minutes"), [("00:00", 0), ("0:05", 5), ("09:30", 570), ("23:59", 1439), ("24:00", 1440)]
)
def test_a_time_of_day_is_read_as_minutes_after_midnight(text: str, minutes: int) -> None:
    window = WorkingWindow.parse("00:00", text) if minutes else WorkingWindow.parse(text, "00:01")
    assert (window.end_min if minutes else window.start_min) == minutes


@pytest.mark.parametrize(
    "text", ["24:01", "09:60", "9", "09:5", "09:005", "-1:00", "09:-1", "ab:cd", "09.30", "", ":30", "09:"]
)
def test_a_text_that_is_not_hh_mm_within_the_day_is_refused(text: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        WorkingWindow.parse(text, "24:00")
    assert fields_of(refused) == ["working_hours"]


@pytest.mark.parametrize(("start", "end"), [(0, 1), (0, 1440), (1439, 1440)])
def test_a_window_within_the_day_is_accepted(start: int, end: int) -> None:
    assert WorkingWindow(start, end).end_min == end


@pytest.mark.parametrize(("start", "end"), [(-1, 60), (60, 60), (0, 1441)])
def test_a_window_that_is_empty_or_leaves_the_day_is_refused(start: int, end: int) -> None:
    with pytest.raises(RuleViolation) as refused:
        WorkingWindow(start, end)
    assert fields_of(refused) == ["working_hours"]


def test_a_calendar_is_built_from_its_json_and_written_back_the_same() -> None:
    made = calendar_of(
        "Europe/Berlin",
        {"mon": ["08:00", "16:30"], "sat": ["00:00", "24:00"]},
        ["2026-12-25", date(2026, 12, 26)],
    )
    assert made.windows == {0: WorkingWindow(480, 990), 5: WorkingWindow(0, 1440)}
    assert made.holidays == frozenset({date(2026, 12, 25), date(2026, 12, 26)})
    assert working_hours_json(made) == {"mon": ["08:00", "16:30"], "sat": ["00:00", "24:00"]}
    assert made.zone == BERLIN


def test_an_around_the_clock_calendar_works_every_day_in_its_zone() -> None:
    always = BusinessCalendar.always("America/New_York")
    assert always.time_zone == "America/New_York" and always.holidays == frozenset()
    assert set(always.windows) == set(range(7))
    assert always.business_seconds(at(5, 0), at(7, 0)) == 48 * H
    assert BusinessCalendar.always().time_zone == "UTC"


def test_the_working_window_of_a_day_is_none_on_a_day_off_or_a_holiday() -> None:
    calendar = BusinessCalendar("Europe/Berlin", {0: WorkingWindow(540, 1020)}, frozenset({date(2026, 12, 14)}))
    assert calendar.window_on(date(2026, 12, 7)) == (at(7, 9), at(7, 17))
    assert calendar.window_on(date(2026, 12, 8)) is None
    assert calendar.window_on(date(2026, 12, 14)) is None


def test_a_span_starting_before_midnight_counts_the_working_time_after_it() -> None:
    early = BusinessCalendar("UTC", dict.fromkeys(range(7), WorkingWindow.parse("00:00", "02:00")))
    start = datetime(2026, 12, 1, 23, tzinfo=UTC)
    assert early.business_seconds(start, datetime(2026, 12, 2, 1, tzinfo=UTC)) == H
    assert early.business_seconds(start, start + timedelta(seconds=1)) == 0
    assert early.add_business_seconds(start, 1) == datetime(2026, 12, 2, 0, 0, 1, tzinfo=UTC)


def test_a_span_of_one_second_inside_working_hours_counts_one_second() -> None:
    assert OFFICE.business_seconds(at(7, 10), at(7, 10) + timedelta(seconds=1)) == 1


def test_a_negative_amount_of_business_time_is_due_at_the_start_in_utc() -> None:
    due = OFFICE.add_business_seconds(at(7, 10), -5)
    assert due == at(7, 10) and due.tzinfo is UTC


def holidays_for(first: date, days: int) -> frozenset[date]:
    return frozenset(first + timedelta(days=d) for d in range(days))


def test_a_due_instant_nearly_three_years_ahead_is_found_and_none_beyond_the_search() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    every_day = dict.fromkeys(range(7), WorkingWindow(0, 1440))
    closed_for_1000_days = BusinessCalendar("UTC", every_day, holidays_for(date(2026, 11, 30), 1001))
    assert closed_for_1000_days.add_business_seconds(start, 1) == datetime(2029, 8, 27, 0, 0, 1, tzinfo=UTC)
    never = BusinessCalendar("UTC", every_day, holidays_for(date(2026, 11, 30), SEARCH_DAYS + 2))
    with pytest.raises(RuleViolation, match=str(SEARCH_DAYS)):
        never.add_business_seconds(start, 1)


def test_a_clock_records_the_policy_it_was_started_under() -> None:
    started = policy()
    assert SlaClock.start(S, started, OFFICE, at(7, 9)).policy_id == started.id


def test_a_breach_raised_keeps_its_instant_when_the_new_target_is_exactly_the_time_used() -> None:
    clock = SlaClock.start(R, policy(), OFFICE, at(7, 9))  # due 11:00
    clock.breached = True
    clock.retarget(OFFICE, policy(response_s=3 * H), at(7, 12))  # 3 h used, the new target is 3 h
    assert clock.due_at == at(7, 11)


def test_working_windows_and_due_instants_are_given_in_utc() -> None:
    start, end = OFFICE.window_on(date(2026, 12, 7)) or (None, None)
    assert start is not None and end is not None
    assert start.tzinfo is UTC and end.tzinfo is UTC
    assert OFFICE.add_business_seconds(at(7, 9), H).tzinfo is UTC


@pytest.mark.parametrize(
    "build",
    [
        lambda: BusinessCalendar("Mars/Olympus", {0: WorkingWindow(540, 1020)}),
        lambda: BusinessCalendar("UTC", {}),
        lambda: BusinessCalendar("UTC", {7: WorkingWindow(540, 1020)}),
    ],
    ids=["zone", "no-day", "weekday"],
)
def test_an_unusable_calendar_says_why(build: Any) -> None:
    with pytest.raises(RuleViolation) as refused:
        build()
    assert fields_of(refused) in (["time_zone"], ["working_hours"])


def test_working_time_on_the_last_day_of_the_search_is_still_found() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    every_day = dict.fromkeys(range(7), WorkingWindow(0, 1440))
    last_day = date(2026, 12, 1) + timedelta(days=SEARCH_DAYS - 2)
    calendar = BusinessCalendar(
        "UTC", every_day, holidays_for(date(2026, 11, 30), (last_day - date(2026, 11, 30)).days)
    )
    assert calendar.add_business_seconds(start, 1) == datetime.combine(last_day, datetime.min.time(), UTC) + timedelta(
        seconds=1
    )
