"""The incident record: priority matrix, lifecycle state machine, field changes (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any, Final
from uuid import UUID

from shared.errors import InvalidTransition, RuleViolation


class Impact(IntEnum):
    HIGH = 1
    MEDIUM = 2
    LOW = 3


class Urgency(IntEnum):
    HIGH = 1
    MEDIUM = 2
    LOW = 3


class IncidentStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Channel(StrEnum):
    PORTAL = "portal"
    PHONE = "phone"
    EMAIL = "email"
    MONITORING = "monitoring"
    API = "api"


# ITIL's usual 3 x 3 matrix: 1 critical, 2 high, 3 moderate, 4 low, 5 planning.
DEFAULT_PRIORITY_MATRIX: Final[dict[tuple[Impact, Urgency], int]] = {
    (Impact.HIGH, Urgency.HIGH): 1,
    (Impact.HIGH, Urgency.MEDIUM): 2,
    (Impact.HIGH, Urgency.LOW): 3,
    (Impact.MEDIUM, Urgency.HIGH): 2,
    (Impact.MEDIUM, Urgency.MEDIUM): 3,
    (Impact.MEDIUM, Urgency.LOW): 4,
    (Impact.LOW, Urgency.HIGH): 3,
    (Impact.LOW, Urgency.MEDIUM): 4,
    (Impact.LOW, Urgency.LOW): 5,
}


def priority_for(
    impact: Impact, urgency: Urgency, matrix: dict[tuple[Impact, Urgency], int] = DEFAULT_PRIORITY_MATRIX
) -> int:
    try:
        return matrix[(impact, urgency)]
    except KeyError:
        raise RuleViolation(f"the priority matrix has no entry for impact {impact} and urgency {urgency}") from None


class HoldReason(StrEnum):
    AWAITING_CALLER = "awaiting_caller"
    AWAITING_SUPPLIER = "awaiting_supplier"
    AWAITING_CHANGE = "awaiting_change"


class Action(StrEnum):
    ASSIGN = "assign"
    START = "start"
    HOLD = "hold"
    RESUME = "resume"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    CANCEL = "cancel"


S, A = IncidentStatus, Action
# The lifecycle as a table: status -> action -> the status it leads to. Reassigning is allowed
# while the incident is being worked on (functional escalation), and keeps its status.
TRANSITIONS: Final[dict[IncidentStatus, dict[Action, IncidentStatus]]] = {
    S.NEW: {A.ASSIGN: S.ASSIGNED, A.RESOLVE: S.RESOLVED, A.CANCEL: S.CANCELLED},
    S.ASSIGNED: {A.ASSIGN: S.ASSIGNED, A.START: S.IN_PROGRESS, A.RESOLVE: S.RESOLVED, A.CANCEL: S.CANCELLED},
    S.IN_PROGRESS: {A.ASSIGN: S.IN_PROGRESS, A.HOLD: S.ON_HOLD, A.RESOLVE: S.RESOLVED, A.CANCEL: S.CANCELLED},
    S.ON_HOLD: {A.RESUME: S.IN_PROGRESS, A.ASSIGN: S.ON_HOLD, A.RESOLVE: S.RESOLVED, A.CANCEL: S.CANCELLED},
    S.RESOLVED: {A.CLOSE: S.CLOSED, A.REOPEN: S.IN_PROGRESS},
    S.CLOSED: {},
    S.CANCELLED: {},
}

DEFAULT_REOPEN_WINDOW: Final = timedelta(days=7)


@dataclass(frozen=True)
class IncidentOpened:
    """Domain event: an incident was recorded."""

    incident_id: UUID


@dataclass(frozen=True)
class IncidentChanged:
    """Domain event: an action changed the incident; `changes` is field -> (old, new)."""

    incident_id: UUID
    action: Action
    actor: str
    previous_status: IncidentStatus
    status: IncidentStatus
    changes: dict[str, tuple[Any, Any]]
    reason: str


@dataclass
class Incident:
    id: UUID
    number: str
    title: str
    description: str
    caller: str
    channel: Channel
    impact: Impact
    urgency: Urgency
    priority: int
    status: IncidentStatus
    ci_id: UUID | None
    opened_at: datetime
    updated_at: datetime
    version: int = 1
    assignment_group: str | None = None
    assignee: str | None = None
    hold_reason: HoldReason | None = None
    resolution_code: str | None = None
    resolution_notes: str = ""
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    pending_events: list[IncidentOpened | IncidentChanged] = field(default_factory=list, compare=False, repr=False)

    def allowed_actions(self) -> list[str]:
        return sorted(a.value for a in TRANSITIONS[self.status])

    def _act(self, action: Action, actor: str, now: datetime, reason: str = "", **values: Any) -> None:
        target = TRANSITIONS[self.status].get(action)
        if target is None:
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())
        changes: dict[str, tuple[Any, Any]] = {}
        if target is not self.status:
            changes["status"] = (self.status.value, target.value)
        for name, value in values.items():
            old = getattr(self, name)
            if old != value:
                changes[name] = (_plain(old), _plain(value))
                setattr(self, name, value)
        previous, self.status = self.status, target
        self.version += 1
        self.updated_at = now
        self.pending_events.append(IncidentChanged(self.id, action, actor, previous, target, changes, reason))

    def assign(self, *, group: str, assignee: str | None, actor: str, now: datetime, reason: str = "") -> None:
        if not group.strip():
            raise RuleViolation("an incident is assigned to a group", field="assignment_group")
        self._act(Action.ASSIGN, actor, now, reason, assignment_group=group.strip(), assignee=assignee)

    def start(self, actor: str, now: datetime) -> None:
        first = self.first_response_at or now
        self._act(Action.START, actor, now, first_response_at=first)

    def hold(self, reason: HoldReason, actor: str, now: datetime, note: str = "") -> None:
        self._act(Action.HOLD, actor, now, note, hold_reason=reason)

    def resume(self, actor: str, now: datetime) -> None:
        self._act(Action.RESUME, actor, now, hold_reason=None)

    def resolve(self, *, code: str, notes: str, actor: str, now: datetime) -> None:
        if not code.strip():
            raise RuleViolation("a resolution needs a code", field="resolution_code")
        first = self.first_response_at or now
        self._act(
            Action.RESOLVE,
            actor,
            now,
            notes,
            resolution_code=code,
            resolution_notes=notes,
            resolved_at=now,
            first_response_at=first,
            hold_reason=None,
        )

    def close(self, actor: str, now: datetime) -> None:
        self._act(Action.CLOSE, actor, now, closed_at=now)

    def reopen(self, reason: str, actor: str, now: datetime, window: timedelta = DEFAULT_REOPEN_WINDOW) -> None:
        if self.status is IncidentStatus.RESOLVED and self.resolved_at and now - self.resolved_at > window:
            raise InvalidTransition("reopen", "resolved more than the reopen window ago", ["close"])
        if not reason.strip():
            raise RuleViolation("say why the incident is reopened", field="reason")
        self._act(Action.REOPEN, actor, now, reason, resolved_at=None, resolution_code=None, resolution_notes="")

    def cancel(self, reason: str, actor: str, now: datetime) -> None:
        if not reason.strip():
            raise RuleViolation("say why the incident is cancelled", field="reason")
        self._act(Action.CANCEL, actor, now, reason)

    @classmethod
    def open(
        cls,
        *,
        incident_id: UUID,
        number: str,
        title: str,
        description: str,
        caller: str,
        channel: Channel,
        impact: Impact,
        urgency: Urgency,
        ci_id: UUID | None,
        now: datetime,
    ) -> Incident:
        if not title.strip():
            raise RuleViolation("an incident needs a title", field="title")
        incident = cls(
            id=incident_id,
            number=number,
            title=title.strip(),
            description=description,
            caller=caller,
            channel=channel,
            impact=impact,
            urgency=urgency,
            priority=priority_for(impact, urgency),
            status=IncidentStatus.NEW,
            ci_id=ci_id,
            opened_at=now,
            updated_at=now,
        )
        incident.pending_events.append(IncidentOpened(incident_id))
        return incident


def _plain(value: Any) -> Any:
    """A value as the history and the events record it (JSON-friendly)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value
