"""SLA clocks and policies as pure domain code (ISO/IEC 20000-1 6.1 targets applied to tickets; no I/O).

- `SlaClock`: one target (response or resolution) of one ticket. It runs, pauses (on hold) and
  stops; it keeps the business seconds of finished running segments (`elapsed_s`) and, while
  running, the instants at which the warning share and the target are reached (`warn_at`,
  `due_at`). A threshold is *passed* when the elapsed business time exceeds it, so a ticket
  resolved exactly at `due_at` met its target.
- `SlaPolicy`: targets per ticket kind, service and priority (and customer, for the policies a
  customer's agreed SLA sets), with the calendar (`sla_calendars`), the warning share and what to
  do on warning and breach (escalation). `select_policy` prefers the customer's policy, then a
  service's own, and falls back to the default one (`service_id` None).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from services.incident.domain.sla_calendars import BusinessCalendar
from shared.errors import RuleViolation


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
    customer_id: UUID | None = None
    """A customer's policy (from their agreement): it applies to that customer's tickets only."""
    agreement_number: str | None = None
    """The agreement (`SLA...`) whose agreed version set this policy; None: set by hand."""

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
    policies: Iterable[SlaPolicy],
    kind: TicketKind,
    service_id: UUID | None,
    priority: int,
    customer_id: UUID | None = None,
) -> SlaPolicy | None:
    """The most specific policy for the ticket's kind and priority: its customer's for its service
    (the customer's agreement), else its customer's for any service, else the service's own, else
    the default one (no service, no customer), else None. Another customer's policy never applies."""
    best: tuple[int, SlaPolicy] | None = None
    for policy in policies:
        if policy.ticket_kind is not kind or policy.priority != priority:
            continue
        if policy.customer_id is not None and policy.customer_id != customer_id:
            continue
        if policy.service_id is not None and policy.service_id != service_id:
            continue
        rank = (2 if policy.customer_id is not None else 0) + (1 if policy.service_id is not None else 0)
        if best is None or rank > best[0]:
            best = (rank, policy)
    return best[1] if best else None


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
