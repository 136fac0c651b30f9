"""An incident's vocabulary: statuses, channels and actions, the lifecycle table, the configurable
policy, the post-incident review and the domain events (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from services.incident.domain.priority import DEFAULT_PRIORITY_MATRIX, PriorityMatrix
from shared.errors import RuleViolation


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
    UPDATE = "update"
    OVERRIDE_PRIORITY = "override_priority"
    ESCALATE = "escalate"
    DECLARE_MAJOR = "declare_major"
    REVIEW = "review"


class EscalationKind(StrEnum):
    FUNCTIONAL = "functional"
    """To another group (more skill, a supplier): the incident is reassigned."""
    HIERARCHICAL = "hierarchical"
    """Up the management line: people are notified, the assignment stays."""


class EscalationTrigger(StrEnum):
    MANUAL = "manual"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"


class ClosedBy(StrEnum):
    CALLER_CONFIRMED = "caller_confirmed"
    AUTO_CLOSED = "auto_closed"


class NoteVisibility(StrEnum):
    INTERNAL = "internal"
    """A work note: agents only."""
    CUSTOMER = "customer"
    """A comment the caller sees."""


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
# While the incident is open it can be edited, its priority overridden, escalated and declared
# major; each keeps the status (a functional escalation of a new incident assigns it, as assign
# does). Classification (category, impact, urgency) may still be corrected once resolved, for the
# quality of the reports.
for _status in (S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD):
    for _action in (A.UPDATE, A.OVERRIDE_PRIORITY, A.ESCALATE, A.DECLARE_MAJOR):
        TRANSITIONS[_status][_action] = _status
    TRANSITIONS[_status][A.REVIEW] = _status
TRANSITIONS[S.RESOLVED][A.UPDATE] = S.RESOLVED
TRANSITIONS[S.RESOLVED][A.REVIEW] = S.RESOLVED

OPEN_STATUSES: Final = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.ON_HOLD})

DEFAULT_REOPEN_WINDOW: Final = timedelta(days=7)
DEFAULT_AUTO_CLOSE_AFTER: Final = timedelta(days=5)
AUTO_CLOSE_ACTOR: Final = "auto-close"


@dataclass(frozen=True)
class IncidentPolicy:
    """The configurable rules (from the service settings)."""

    priority_matrix: PriorityMatrix = field(default_factory=lambda: dict(DEFAULT_PRIORITY_MATRIX))
    reopen_window: timedelta = DEFAULT_REOPEN_WINDOW
    auto_close_after: timedelta = DEFAULT_AUTO_CLOSE_AFTER
    """A resolved incident the caller has not confirmed closes by itself after this long."""


DEFAULT_POLICY: Final = IncidentPolicy()


@dataclass(frozen=True)
class PostIncidentReview:
    """The review of a major incident once service is restored (ISO/IEC 20000-1 8.1): what
    happened, why, what was learnt and what will be done. A major incident closes only with one."""

    summary: str
    root_cause: str
    lessons: str
    actions: tuple[str, ...]
    recorded_by: str
    recorded_at: datetime

    def __post_init__(self) -> None:
        missing = [
            (name, "must not be empty")
            for name, value in (("summary", self.summary), ("root_cause", self.root_cause), ("lessons", self.lessons))
            if not value.strip()
        ]
        if not self.actions or any(not a.strip() for a in self.actions):
            missing.append(("actions", "list at least one improvement action, none of them empty"))
        if missing:
            raise RuleViolation.of_fields(missing)


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
    details: Mapping[str, Any] = field(default_factory=dict)
    """What the action says beyond field changes (escalation kind and people notified, an override)."""


EDITABLE: Final = frozenset({"title", "description", "category", "subcategory", "impact", "urgency"})
"""What PATCH may change; the rest changes through the actions."""


class DomainConflict:
    """Why a guarded action is refused (turned into a 409 by `_act`)."""

    def __init__(self, detail: str, **extensions: Any) -> None:
        self.detail = detail
        self.extensions = extensions


def plain(value: Any) -> Any:
    """A value as the history and the events record it (JSON-friendly)."""
    if isinstance(value, PostIncidentReview):
        return {
            "summary": value.summary,
            "root_cause": value.root_cause,
            "lessons": value.lessons,
            "actions": list(value.actions),
        }
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


def plan_escalation(
    kind: EscalationKind,
    trigger: EscalationTrigger,
    from_group: str | None,
    to_group: str | None,
    notify: Sequence[str],
    supplier_id: UUID | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What an escalation records (`details`) and the fields it sets: functional = reassigned to
    `to_group` (the assignee cleared); hierarchical = `notify` are told, the assignment stays."""
    notified = [n.strip() for n in notify if n.strip()]
    details: dict[str, Any] = {
        "kind": kind.value,
        "trigger": trigger.value,
        "from_group": from_group,
        "to_group": None,
        "notified": notified,
    }
    values: dict[str, Any] = {}
    if kind is EscalationKind.FUNCTIONAL:
        group = (to_group or "").strip()
        if not group:
            raise RuleViolation("a functional escalation names the group to escalate to", field="to_group")
        if group == from_group:
            raise RuleViolation(f"the incident is with {group} already", field="to_group")
        details["to_group"] = group
        values = {"assignment_group": group, "assignee": None, "supplier_id": supplier_id}
    elif not notified:
        raise RuleViolation("a hierarchical escalation names who is notified", field="notify")
    return details, values
