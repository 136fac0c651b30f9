"""SLA clocks as pure domain code (ISO/IEC 20000-1 6.1 targets applied to tickets; no I/O).

- `BusinessCalendar`: working windows per weekday in an IANA time zone, and holidays.
  *Business time* is real elapsed time inside the working windows: a window is placed on the
  calendar's local wall clock each day and measured between the two UTC instants it maps to, so
  an `00:00-24:00` window lasts 23 h on the day clocks go forward and 25 h on the day they go back.
  A window starting inside a skipped hour (02:30 on a spring-forward day) starts when that wall
  time exists again under the earlier offset (03:30 summer time); an ambiguous time (autumn) is its
  first occurrence.
- `SlaClock`: one target (response or resolution) of one ticket. It runs, pauses (on hold) and
  stops; it keeps the business seconds of finished running segments (`elapsed_s`) and, while
  running, the instants at which the warning share and the target are reached (`warn_at`,
  `due_at`). A threshold is *passed* when the elapsed business time exceeds it, so a ticket
  resolved exactly at `due_at` met its target.
- `SlaPolicy`: targets per ticket kind, service and priority, with the calendar, the warning share
  and what to do on warning and breach (escalation). `select_policy` prefers a service's own
  policy and falls back to the default one (`service_id` None).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from uuid import UUID
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


class SlaTarget(StrEnum):
    RESPONSE = "response"
    RESOLUTION = "resolution"


class TicketKind(StrEnum):
    INCIDENT = "incident"
    REQUEST = "request"


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    """The ticket was cancelled: the clock stops and raises nothing more."""


@dataclass
class SlaClock:
    """One target of one ticket. `elapsed_s` holds the business seconds before `since` (the last
    state change); while running, the segment since `since` is added on the next change."""

    target: SlaTarget
    policy_id: UUID
    target_s: int
    warn_s: int | None
    state: ClockState
    since: datetime
    started_at: datetime
    elapsed_s: int = 0
    warn_at: datetime | None = None
    due_at: datetime | None = None
    warned: bool = False
    breached: bool = False
    stopped_at: datetime | None = None
    pauses: int = 0

    @classmethod
    def start(
        cls,
        target: SlaTarget,
        policy: SlaPolicy,
        calendar: BusinessCalendar,
        at: datetime,
        state: ClockState = ClockState.RUNNING,
    ) -> SlaClock:
        clock = cls(
            target=target,
            policy_id=policy.id,
            target_s=policy.target_s(target),
            warn_s=policy.warn_s(target),
            state=ClockState.RUNNING,
            since=at,
            started_at=at,
        )
        clock._plan(calendar)
        if state is not ClockState.RUNNING:
            clock.move(calendar, state, at)
        return clock

    def elapsed_at(self, calendar: BusinessCalendar, at: datetime) -> int:
        if self.state is ClockState.RUNNING:
            return self.elapsed_s + calendar.business_seconds(self.since, at)
        return self.elapsed_s

    def met(self) -> bool:
        """Whether the business time used so far is within the target."""
        return self.elapsed_s <= self.target_s

    @property
    def next_alert_at(self) -> datetime | None:
        """The earliest instant with something still to raise (warning or breach), else None."""
        pending = [
            instant
            for instant, raised in ((self.warn_at, self.warned), (self.due_at, self.breached))
            if instant is not None and not raised
        ]
        return min(pending, default=None)

    def due_instant(self, calendar: BusinessCalendar) -> datetime | None:
        """The due instant as it stands: planned or passed; for a clock stopped or paused short of
        its target, where it would be had it run on from then. None once cancelled."""
        if self.due_at is not None or self.state is ClockState.CANCELLED:
            return self.due_at
        return calendar.add_business_seconds(self.since, self.target_s - self.elapsed_s)

    def move(self, calendar: BusinessCalendar, state: ClockState, at: datetime) -> None:
        """Go to `state` at `at`: a running segment is closed (its business time kept), a stopped
        clock restarts (reopen) with the time it had, a cancelled one stays cancelled."""
        if self.state is ClockState.CANCELLED or state is self.state:
            return
        self._close_segment(calendar, at)
        if state is ClockState.PAUSED:
            self.pauses += 1
        self.state = state
        self.stopped_at = at if state in (ClockState.STOPPED, ClockState.CANCELLED) else None
        self._plan(calendar)
        if state is ClockState.CANCELLED:
            # Nothing is raised for a cancelled ticket from now on.
            self.warn_at = self.warn_at if self.warned else None
            self.due_at = self.due_at if self.breached else None

    def retarget(self, calendar: BusinessCalendar, policy: SlaPolicy, at: datetime) -> None:
        """Apply a (new) policy: the priority changed, or the policy or its calendar did. The
        business time used is kept; the instants are planned again from it. A new target that is
        already used up is due at the change (when it was reached earlier is not known)."""
        target_s, warn_s = policy.target_s(self.target), policy.warn_s(self.target)
        if self.state is ClockState.CANCELLED:
            return
        self._close_segment(calendar, at)
        if (target_s, warn_s, policy.id) != (self.target_s, self.warn_s, self.policy_id):
            self.target_s, self.warn_s, self.policy_id = target_s, warn_s, policy.id
            if not self.warned:
                self.warn_at = None
            if not self.breached:
                self.due_at = None
        self._plan(calendar)

    def _close_segment(self, calendar: BusinessCalendar, at: datetime) -> None:
        at = max(at, self.since)
        if self.state is ClockState.RUNNING:
            self.elapsed_s += calendar.business_seconds(self.since, at)
        self.since = at

    def _plan(self, calendar: BusinessCalendar) -> None:
        self.warn_at = self._crossing(calendar, self.warn_s, self.warn_at)
        self.due_at = self._crossing(calendar, self.target_s, self.due_at)

    def _crossing(
        self, calendar: BusinessCalendar, threshold: int | None, previous: datetime | None
    ) -> datetime | None:
        """When the elapsed business time reaches `threshold`: ahead while running, kept once it
        has passed, None while it cannot be reached (paused or stopped short of it)."""
        if threshold is None:
            return None
        if self.state is ClockState.RUNNING and threshold > self.elapsed_s:
            return calendar.add_business_seconds(self.since, threshold - self.elapsed_s)
        if self.state is not ClockState.RUNNING and threshold >= self.elapsed_s:
            return None
        # Reached before `since`: keep the instant found while it ran, else `since` as the bound.
        return previous if previous is not None and previous <= self.since else self.since


class EscalationKind(StrEnum):
    FUNCTIONAL = "functional"
    """Reassign the ticket to another group."""
    HIERARCHICAL = "hierarchical"
    """Notify people (managers); the assignment stays."""


@dataclass(frozen=True)
class Escalation:
    """What happens when a target is at risk or breached."""

    kind: EscalationKind
    to_group: str | None = None
    notify: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind is EscalationKind.FUNCTIONAL and not (self.to_group or "").strip():
            raise RuleViolation("a functional escalation names the group to reassign to", field="to_group")
        if self.kind is EscalationKind.HIERARCHICAL and not self.notify:
            raise RuleViolation("a hierarchical escalation names whom to notify", field="notify")


@dataclass(frozen=True)
class SlaPolicy:
    id: UUID
    name: str
    ticket_kind: TicketKind
    service_id: UUID | None
    priority: int
    response_s: int
    resolution_s: int
    calendar_id: UUID
    warn_share: float | None = 0.75
    on_warning: Escalation | None = None
    on_breach: Escalation | None = None
    version: int = 1

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not self.name.strip():
            errors.append(("name", "a policy needs a name"))
        if not 1 <= self.priority <= 5:
            errors.append(("priority", "priorities are 1 (critical) to 5 (planning)"))
        if self.response_s <= 0:
            errors.append(("response_target_s", "the response target is a positive number of seconds"))
        if self.resolution_s <= 0:
            errors.append(("resolution_target_s", "the resolution target is a positive number of seconds"))
        elif self.response_s > self.resolution_s:
            errors.append(("response_target_s", "the response target cannot be longer than the resolution target"))
        if self.warn_share is not None and not 0 < self.warn_share < 1:
            errors.append(("warning_share", "the warning share is between 0 and 1 (e.g. 0.75), or null for none"))
        if errors:
            raise RuleViolation.of_fields(errors)

    def target_s(self, target: SlaTarget) -> int:
        return self.response_s if target is SlaTarget.RESPONSE else self.resolution_s

    def warn_s(self, target: SlaTarget) -> int | None:
        if self.warn_share is None:
            return None
        return int(self.target_s(target) * self.warn_share)

    def escalation(self, breached: bool) -> Escalation | None:
        return self.on_breach if breached else self.on_warning


def select_policy(
    policies: Iterable[SlaPolicy], kind: TicketKind, service_id: UUID | None, priority: int
) -> SlaPolicy | None:
    """The service's own policy for the priority, else the default one (no service), else None."""
    default = None
    for policy in policies:
        if policy.ticket_kind is not kind or policy.priority != priority:
            continue
        if policy.service_id is not None and policy.service_id == service_id:
            return policy
        if policy.service_id is None:
            default = policy
    return default


# What each ticket's state asks of its clocks ------------------------------------------------------

STOP, RUN, PAUSE = ClockState.STOPPED, ClockState.RUNNING, ClockState.PAUSED


def incident_clock_states(status: str, responded: bool) -> dict[SlaTarget, ClockState]:
    """Response runs until the first response (`first_response_at`: the incident is started, or
    resolved first; anything else that sets it counts too). Resolution runs while the incident is
    open, pauses on hold, stops at resolve and restarts on reopen. Cancelling cancels both."""
    if status == "cancelled":
        return {SlaTarget.RESPONSE: ClockState.CANCELLED, SlaTarget.RESOLUTION: ClockState.CANCELLED}
    done = status in ("resolved", "closed")
    resolution = STOP if done else PAUSE if status == "on_hold" else RUN
    return {SlaTarget.RESPONSE: STOP if responded or done else RUN, SlaTarget.RESOLUTION: resolution}


def request_clock_states(status: str, needs_approval: bool) -> dict[SlaTarget, ClockState]:
    """Both clocks pause while the request waits for its approver (the fulfilment group cannot act
    yet). Response stops when fulfilment starts; resolution (fulfilment) when it is fulfilled.
    Rejecting stops both; cancelling cancels both."""
    if status == "cancelled":
        return {SlaTarget.RESPONSE: ClockState.CANCELLED, SlaTarget.RESOLUTION: ClockState.CANCELLED}
    if status == "submitted" and needs_approval:
        return {SlaTarget.RESPONSE: PAUSE, SlaTarget.RESOLUTION: PAUSE}
    if status in ("submitted", "approved"):
        return {SlaTarget.RESPONSE: RUN, SlaTarget.RESOLUTION: RUN}
    if status == "in_fulfilment":
        return {SlaTarget.RESPONSE: STOP, SlaTarget.RESOLUTION: RUN}
    return {SlaTarget.RESPONSE: STOP, SlaTarget.RESOLUTION: STOP}
