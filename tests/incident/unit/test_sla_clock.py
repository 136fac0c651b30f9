"""The SLA clock of one ticket and target: pauses, stops, reopen, priority changes, warning share,
policies and what each ticket state asks of its clocks (no I/O)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
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
    request_clock_states,
    select_policy,
)
from services.incident.domain.sla_calendars import BusinessCalendar, WorkingWindow
from shared.errors import RuleViolation

H = 3600
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar("Europe/Berlin", dict.fromkeys(range(5), WorkingWindow.parse("09:00", "17:00")))
CALENDAR_ID = uuid.uuid4()
R, S = SlaTarget.RESPONSE, SlaTarget.RESOLUTION


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in Berlin; the 7th is a Monday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


def policy(priority: int = 3, response_h: float = 2, resolution_h: float = 8, **kw: object) -> SlaPolicy:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "name": f"P{priority}",
        "ticket_kind": TicketKind.INCIDENT,
        "service_id": None,
        "priority": priority,
        "response_s": int(response_h * H),
        "resolution_s": int(resolution_h * H),
        "calendar_id": CALENDAR_ID,
    }
    values.update(kw)
    return SlaPolicy(**values)  # type: ignore[arg-type]


def test_a_started_clock_is_due_after_its_target_and_warns_at_the_share() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 13))
    assert (clock.state, clock.elapsed_s) == (ClockState.RUNNING, 0)
    assert clock.due_at == at(8, 13)  # 4 h on Monday, 4 h on Tuesday
    assert clock.warn_at == at(8, 11)  # 75 % of 8 h = 6 h
    assert clock.elapsed_at(OFFICE, at(7, 15)) == 2 * H


def test_several_pauses_leave_their_time_out_and_move_the_due_instant() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 10))  # 1 h used
    assert (clock.elapsed_s, clock.due_at, clock.warn_at) == (H, None, None)
    clock.move(OFFICE, ClockState.RUNNING, at(7, 14))  # 4 h on hold
    assert clock.due_at == at(8, 13)  # 7 h left: 3 h Monday, 4 h Tuesday
    clock.move(OFFICE, ClockState.PAUSED, at(7, 16))  # 3 h used
    clock.move(OFFICE, ClockState.RUNNING, at(9, 9))  # paused across a night and a whole day
    assert clock.elapsed_s == 3 * H
    assert clock.due_at == at(9, 14)
    assert clock.pauses == 2
    clock.move(OFFICE, ClockState.STOPPED, at(9, 12))
    assert (clock.elapsed_s, clock.met(), clock.stopped_at) == (6 * H, True, at(9, 12))


def test_a_pause_at_night_costs_nothing_and_a_resume_at_night_counts_from_the_morning() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 16))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 20))
    clock.move(OFFICE, ClockState.RUNNING, at(7, 23))
    assert clock.elapsed_s == H
    assert clock.due_at == at(8, 16)


def test_a_clock_stopped_in_time_is_met_and_has_nothing_left_to_raise() -> None:
    clock = SlaClock.start(R, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.STOPPED, at(7, 10))
    assert clock.met()
    assert (clock.due_at, clock.warn_at) == (None, None)


def test_stopping_exactly_at_the_target_meets_it() -> None:
    clock = SlaClock.start(R, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.STOPPED, at(7, 11))
    assert clock.elapsed_s == clock.target_s
    assert clock.met()
    assert clock.due_at is None


def test_a_threshold_passed_before_a_pause_or_stop_keeps_its_instant_for_the_watcher() -> None:
    clock = SlaClock.start(R, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 12))  # 3 h used of 2 h
    assert (clock.due_at, clock.warn_at) == (at(7, 11), at(7, 10, 30))
    clock.move(OFFICE, ClockState.STOPPED, at(7, 13))
    assert not clock.met()
    assert clock.due_at == at(7, 11)


def test_reopening_restarts_the_clock_with_the_time_already_used() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.STOPPED, at(7, 14))  # resolved after 5 h
    clock.move(OFFICE, ClockState.RUNNING, at(8, 9))  # reopened next morning
    assert (clock.state, clock.elapsed_s, clock.stopped_at) == (ClockState.RUNNING, 5 * H, None)
    assert clock.due_at == at(8, 12)


def test_a_priority_change_keeps_the_elapsed_time_and_plans_against_the_new_target() -> None:
    p3, p1 = policy(3, 2, 8), policy(1, 0.5, 4)
    clock = SlaClock.start(S, p3, OFFICE, at(7, 9))
    clock.retarget(OFFICE, p1, at(7, 11))  # 2 h used, 2 h of the new 4 h left
    assert (clock.elapsed_s, clock.target_s, clock.policy_id) == (2 * H, 4 * H, p1.id)
    assert clock.due_at == at(7, 13)
    assert clock.warn_at == at(7, 12)
    # the other way round: the new, larger target moves the instants out
    clock.retarget(OFFICE, p3, at(7, 12))  # 3 h used of 8 h
    assert clock.due_at == at(7, 17)


def test_a_new_target_already_used_up_is_due_at_the_change() -> None:
    clock = SlaClock.start(S, policy(3, 2, 8), OFFICE, at(7, 9))
    clock.retarget(OFFICE, policy(1, 0.5, 4), at(7, 15))  # 6 h used, target now 4 h
    assert clock.due_at == at(7, 15)
    assert clock.warn_at == at(7, 15)


def test_a_priority_change_while_on_hold_plans_nothing_until_it_runs_again() -> None:
    clock = SlaClock.start(S, policy(3, 2, 8), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 10))
    clock.retarget(OFFICE, policy(1, 0.5, 4), at(7, 12))
    assert (clock.elapsed_s, clock.due_at) == (H, None)
    clock.move(OFFICE, ClockState.RUNNING, at(7, 14))
    assert clock.due_at == at(7, 17)


def test_flags_already_raised_stay_raised_whatever_the_new_target() -> None:
    clock = SlaClock.start(S, policy(3, 2, 8), OFFICE, at(7, 9))
    clock.warned = clock.breached = True
    clock.retarget(OFFICE, policy(5, 8, 40), at(7, 10))
    assert clock.warned and clock.breached  # raised once, never again for this ticket and target
    assert clock.due_at == at(11, 17)  # the instants show the current target


def test_a_cancelled_clock_raises_nothing_more_and_stays_cancelled() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.PAUSED, at(8, 16))  # 8 h used: warning and target passed
    clock.move(OFFICE, ClockState.CANCELLED, at(8, 16))
    assert (clock.due_at, clock.warn_at) == (None, None)
    clock.move(OFFICE, ClockState.RUNNING, at(9, 9))
    assert clock.state is ClockState.CANCELLED


def test_no_warning_share_means_no_warning_instant() -> None:
    clock = SlaClock.start(S, policy(warn_share=None), OFFICE, at(7, 9))
    assert clock.warn_at is None
    assert clock.due_at == at(7, 17)


def test_a_clock_can_start_paused() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9), ClockState.PAUSED)
    assert (clock.state, clock.due_at, clock.pauses) == (ClockState.PAUSED, None, 1)


def test_random_run_pause_sequences_account_for_every_running_second() -> None:
    """Property: whatever the sequence of pauses, the elapsed time is the business time of the
    running segments, and a running clock is due when the rest of the target has passed."""
    rng = random.Random(20261130)
    always = BusinessCalendar.always("Europe/Berlin")
    for calendar in (OFFICE, always):
        for _ in range(200):
            now = datetime(2026, 3, 20, tzinfo=UTC) + timedelta(seconds=rng.randrange(20 * 86400))
            clock = SlaClock.start(S, policy(3, 4, 16), calendar, now)
            expected, running_since = 0, now
            for _ in range(rng.randrange(1, 8)):
                now += timedelta(seconds=rng.randrange(1, 3 * 86400))
                if clock.state is ClockState.RUNNING:
                    expected += calendar.business_seconds(running_since, now)
                    clock.move(calendar, ClockState.PAUSED, now)
                else:
                    clock.move(calendar, ClockState.RUNNING, now)
                    running_since = now
                assert clock.elapsed_s == expected
            if clock.state is ClockState.RUNNING and clock.elapsed_s < clock.target_s:
                assert clock.due_at is not None
                assert clock.elapsed_at(calendar, clock.due_at) == clock.target_s


# Policies -------------------------------------------------------------------------------------------


def test_the_services_own_policy_wins_over_the_default_and_the_priority_must_match() -> None:
    email = uuid.uuid4()
    default_p1, default_p2 = policy(1), policy(2)
    email_p1 = policy(1, service_id=email)
    requests_p1 = policy(1, ticket_kind=TicketKind.REQUEST)
    policies = [default_p1, email_p1, default_p2, requests_p1]
    assert select_policy(policies, TicketKind.INCIDENT, email, 1) is email_p1
    assert select_policy(policies, TicketKind.INCIDENT, uuid.uuid4(), 1) is default_p1
    assert select_policy(policies, TicketKind.INCIDENT, None, 2) is default_p2
    assert select_policy(policies, TicketKind.REQUEST, email, 1) is requests_p1
    assert select_policy(policies, TicketKind.INCIDENT, email, 4) is None


def test_a_policy_with_impossible_targets_is_refused_naming_each_field() -> None:
    with pytest.raises(RuleViolation) as refused:
        policy(priority=7, response_h=9, resolution_h=8, warn_share=1.5)
    fields = [e["field"] for e in refused.value.extensions["errors"]]
    assert fields == ["priority", "response_target_s", "warning_share"]
    with pytest.raises(RuleViolation):
        policy(response_h=0)


def test_the_warning_threshold_is_the_share_of_each_target() -> None:
    p = policy(response_h=2, resolution_h=8, warn_share=0.5)
    assert (p.warn_s(R), p.warn_s(S)) == (H, 4 * H)


def test_escalations_name_a_group_or_people() -> None:
    with pytest.raises(RuleViolation):
        Escalation(EscalationKind.FUNCTIONAL)
    with pytest.raises(RuleViolation):
        Escalation(EscalationKind.HIERARCHICAL, to_group="x")
    assert Escalation(EscalationKind.HIERARCHICAL, notify=("duty-manager",)).notify == ("duty-manager",)
    warn, breach = Escalation(EscalationKind.FUNCTIONAL, to_group="l2"), Escalation(EscalationKind.FUNCTIONAL, "l3")
    p = policy(on_warning=warn, on_breach=breach)
    assert (p.escalation(breached=False), p.escalation(breached=True)) == (warn, breach)


# What ticket states ask of the clocks ---------------------------------------------------------------

RUN, PAUSE, STOP, CANCEL = ClockState.RUNNING, ClockState.PAUSED, ClockState.STOPPED, ClockState.CANCELLED


@pytest.mark.parametrize(
    ("status", "responded", "response", "resolution"),
    [
        ("new", False, RUN, RUN),
        ("assigned", False, RUN, RUN),
        ("in_progress", True, STOP, RUN),
        ("on_hold", True, STOP, PAUSE),
        ("resolved", True, STOP, STOP),
        ("closed", True, STOP, STOP),
        ("cancelled", False, CANCEL, CANCEL),
        ("assigned", True, STOP, RUN),  # a customer-visible response before work starts
    ],
)
def test_incident_states_and_clocks(status: str, responded: bool, response: object, resolution: object) -> None:
    assert incident_clock_states(status, responded) == {R: response, S: resolution}


@pytest.mark.parametrize(
    ("status", "needs_approval", "response", "resolution"),
    [
        ("submitted", True, PAUSE, PAUSE),
        ("submitted", False, RUN, RUN),
        ("approved", True, RUN, RUN),
        ("in_fulfilment", False, STOP, RUN),
        ("fulfilled", False, STOP, STOP),
        ("closed", False, STOP, STOP),
        ("rejected", True, STOP, STOP),
        ("cancelled", True, CANCEL, CANCEL),
    ],
)
def test_request_states_and_clocks(status: str, needs_approval: bool, response: object, resolution: object) -> None:
    assert request_clock_states(status, needs_approval) == {R: response, S: resolution}


def test_the_next_alert_is_the_earliest_instant_not_raised_yet() -> None:
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    assert clock.next_alert_at == clock.warn_at
    clock.warned = True
    assert clock.next_alert_at == clock.due_at
    clock.breached = True
    assert clock.next_alert_at is None
    clock = SlaClock.start(S, policy(), OFFICE, at(7, 9))
    clock.move(OFFICE, ClockState.PAUSED, at(7, 10))  # nothing reachable while paused
    assert clock.next_alert_at is None
