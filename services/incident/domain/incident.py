"""The incident record: priority matrix, lifecycle state machine, field changes (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any, Final
from uuid import UUID

from shared.errors import Conflict, InvalidTransition, RuleViolation


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


PriorityMatrix = Mapping[tuple[Impact, Urgency], int]


def priority_for(impact: Impact, urgency: Urgency, matrix: PriorityMatrix = DEFAULT_PRIORITY_MATRIX) -> int:
    try:
        return matrix[(impact, urgency)]
    except KeyError:
        raise RuleViolation(f"the priority matrix has no entry for impact {impact} and urgency {urgency}") from None


def priority_matrix(rows: Sequence[Sequence[int]]) -> dict[tuple[Impact, Urgency], int]:
    """The matrix from its rows as configured: `rows[impact - 1][urgency - 1]` is the priority
    (1 critical .. 5 planning); every impact x urgency needs one."""
    if len(rows) != len(Impact) or any(len(row) != len(Urgency) for row in rows):
        raise ValueError(f"the priority matrix has {len(Impact)} rows (impact) of {len(Urgency)} priorities (urgency)")
    if any(not 1 <= p <= 5 for row in rows for p in row):
        raise ValueError("priorities run from 1 (critical) to 5 (planning)")
    return {(impact, urgency): rows[impact - 1][urgency - 1] for impact in Impact for urgency in Urgency}


# A CI's criticality (config: 1 critical, 2 high, 3 medium, 4 low) -> the impact an incident on
# it has when the caller gives none: a critical CI down hurts the business widely (high), a high
# or medium one a part of it (medium), a low one few people (low).
IMPACT_BY_CRITICALITY: Final[Mapping[int, Impact]] = {
    1: Impact.HIGH,
    2: Impact.MEDIUM,
    3: Impact.MEDIUM,
    4: Impact.LOW,
}


def impact_for_criticality(criticality: int) -> Impact:
    return IMPACT_BY_CRITICALITY.get(criticality, Impact.MEDIUM)


@dataclass(frozen=True)
class AffectedCI:
    """What the incident needs to know of its CI (from the local CI read model)."""

    id: UUID
    status: str
    criticality: int
    service_id: UUID | None

    @property
    def retired(self) -> bool:
        return self.status == "retired"


def check_ci(ci_id: UUID, ci: AffectedCI | None) -> AffectedCI:
    """An incident is recorded only on a CI the CMDB knows and has not retired."""
    if ci is None:
        raise RuleViolation(
            f"configuration item {ci_id} is unknown here: it is not in the CMDB (or config has not told this"
            " service about it yet)",
            field="ci_id",
        )
    if ci.retired:
        raise RuleViolation(f"configuration item {ci_id} is retired; record the incident on a live CI", field="ci_id")
    return ci


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
    category: str | None = None
    subcategory: str | None = None
    service_id: UUID | None = None
    supplier_id: UUID | None = None
    priority_override_reason: str | None = None
    major: bool = False
    major_manager: str | None = None
    major_declared_at: datetime | None = None
    closed_by: ClosedBy | None = None
    review: PostIncidentReview | None = None
    # Links that problem management finds (8.2), written by the service's own consumers.
    problem_id: UUID | None = None
    problem_number: str | None = None
    known_error_id: UUID | None = None
    workaround: str | None = None
    caused_by_change_id: UUID | None = None
    caused_by_change_number: str | None = None
    pending_events: list[IncidentOpened | IncidentChanged] = field(default_factory=list, compare=False, repr=False)

    def allowed_actions(self) -> list[str]:
        return sorted(a.value for a in TRANSITIONS[self.status] if self._guard(a) is None)

    def _guard(self, action: Action) -> DomainConflict | None:
        """Why an action the table allows cannot be done on this incident now, if it cannot."""
        if action is Action.DECLARE_MAJOR and self.major:
            return DomainConflict(f"{self.number} is already a major incident (manager: {self.major_manager})")
        if action is Action.REVIEW and not self.major:
            return DomainConflict(f"{self.number} is not a major incident; only major incidents have a review")
        if action is Action.CLOSE and self.major and self.review is None:
            return DomainConflict(
                f"{self.number} is a major incident: record its post-incident review (PUT .../review) before"
                " closing it",
                missing=["review"],
            )
        return None

    def _act(
        self,
        action: Action,
        actor: str,
        now: datetime,
        reason: str = "",
        *,
        target: IncidentStatus | None = None,
        details: Mapping[str, Any] | None = None,
        recorded: Mapping[str, Any] | None = None,
        **values: Any,
    ) -> IncidentChanged:
        """Apply `action` if the table and the guards allow it: set `values`, record each change
        (and `recorded`: what happened that is no field, as (None, value)) and the domain event."""
        allowed_target = TRANSITIONS[self.status].get(action)
        if allowed_target is None:
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())
        refused = self._guard(action)
        if refused is not None:
            raise Conflict(
                refused.detail, state=self.status.value, allowed_actions=self.allowed_actions(), **refused.extensions
            )
        target = target or allowed_target
        changes: dict[str, tuple[Any, Any]] = {}
        if target is not self.status:
            changes["status"] = (self.status.value, target.value)
        for name, value in values.items():
            old = getattr(self, name)
            if old != value:
                changes[name] = (_plain(old), _plain(value))
                setattr(self, name, value)
        for name, value in (recorded or {}).items():
            changes[name] = (None, _plain(value))
        previous, self.status = self.status, target
        self.version += 1
        self.updated_at = now
        event = IncidentChanged(self.id, action, actor, previous, target, changes, reason, dict(details or {}))
        self.pending_events.append(event)
        return event

    def assign(
        self,
        *,
        group: str,
        assignee: str | None,
        actor: str,
        now: datetime,
        reason: str = "",
        supplier_id: UUID | None = None,
    ) -> None:
        """To a group (and maybe a person); `supplier_id` when the group is a supplier's (a
        reassignment to an internal group clears it)."""
        if not group.strip():
            raise RuleViolation("an incident is assigned to a group", field="assignment_group")
        self._act(
            Action.ASSIGN,
            actor,
            now,
            reason,
            assignment_group=group.strip(),
            assignee=assignee,
            supplier_id=supplier_id,
        )

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

    def close(
        self, actor: str, now: datetime, *, closed_by: ClosedBy = ClosedBy.CALLER_CONFIRMED, reason: str = ""
    ) -> None:
        """On the caller's confirmation, or automatically (`close_automatically`). A major
        incident closes only once its post-incident review is recorded (409 naming it)."""
        self._act(Action.CLOSE, actor, now, reason, closed_at=now, closed_by=closed_by)

    def due_for_auto_close(self, now: datetime, after: timedelta) -> bool:
        """Resolved for `after` without the caller confirming (nor reopening), and closable."""
        return (
            self.status is IncidentStatus.RESOLVED
            and self.resolved_at is not None
            and now - self.resolved_at >= after
            and self._guard(Action.CLOSE) is None
        )

    def close_automatically(self, now: datetime, after: timedelta, actor: str = AUTO_CLOSE_ACTOR) -> None:
        days = after / timedelta(days=1)
        self.close(
            actor,
            now,
            closed_by=ClosedBy.AUTO_CLOSED,
            reason=f"resolved for {days:g} days without the caller's confirmation",
        )

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

    def update(
        self,
        values: Mapping[str, Any],
        *,
        actor: str,
        now: datetime,
        matrix: PriorityMatrix = DEFAULT_PRIORITY_MATRIX,
        reason: str = "",
    ) -> None:
        """Edit the description and classification (`EDITABLE` fields, only those given). A new
        impact or urgency recomputes the priority from the matrix, which ends an override."""
        unknown = sorted(set(values) - EDITABLE)
        if unknown:
            raise RuleViolation.of_fields([(name, "cannot be edited") for name in unknown])
        if "title" in values and not str(values["title"]).strip():
            raise RuleViolation("an incident needs a title", field="title")
        merged = {name: values.get(name, getattr(self, name)) for name in EDITABLE}
        if merged["subcategory"] and not merged["category"]:
            raise RuleViolation("a subcategory needs a category", field="subcategory")
        impact, urgency = Impact(merged["impact"]), Urgency(merged["urgency"])
        changed = {name: value for name, value in values.items() if getattr(self, name) != value}
        if not changed:
            return
        if "impact" in changed or "urgency" in changed:
            changed["priority"] = priority_for(impact, urgency, matrix)
            changed["priority_override_reason"] = None
            changed["impact"], changed["urgency"] = impact, urgency
        previous_priority = self.priority
        self._act(Action.UPDATE, actor, now, reason, details={"previous_priority": previous_priority}, **changed)

    def override_priority(self, priority: int, *, reason: str, actor: str, now: datetime) -> None:
        """An agent sets the priority against the matrix, saying why (kept and in the history)."""
        if not 1 <= priority <= 5:
            raise RuleViolation("a priority runs from 1 (critical) to 5 (planning)", field="priority")
        if not reason.strip():
            raise RuleViolation("say why the priority overrides the matrix", field="reason")
        if priority == self.priority:
            raise RuleViolation(f"the priority is {priority} already", field="priority")
        self._act(
            Action.OVERRIDE_PRIORITY,
            actor,
            now,
            reason,
            details={"previous_priority": self.priority, "override": True},
            priority=priority,
            priority_override_reason=reason.strip(),
        )

    def escalate(
        self,
        kind: EscalationKind,
        *,
        actor: str,
        now: datetime,
        trigger: EscalationTrigger = EscalationTrigger.MANUAL,
        to_group: str | None = None,
        notify: Sequence[str] = (),
        supplier_id: UUID | None = None,
        reason: str = "",
    ) -> None:
        """The escalation rule, by hand or from the SLA watcher (`trigger` sla_warning or
        sla_breached). Functional: reassigned to `to_group` (the assignee cleared, a new
        incident becomes assigned; `supplier_id` when that group is a supplier's). Hierarchical:
        `notify` (managers) are told; the assignment stays. Either way one
        `incident.escalated.v1`; refused (409) once resolved."""
        notified = [n.strip() for n in notify if n.strip()]
        details: dict[str, Any] = {
            "kind": kind.value,
            "trigger": trigger.value,
            "from_group": self.assignment_group,
            "to_group": None,
            "notified": notified,
        }
        values: dict[str, Any] = {}
        target: IncidentStatus | None = None
        if kind is EscalationKind.FUNCTIONAL:
            group = (to_group or "").strip()
            if not group:
                raise RuleViolation("a functional escalation names the group to escalate to", field="to_group")
            if group == self.assignment_group:
                raise RuleViolation(f"the incident is with {group} already", field="to_group")
            details["to_group"] = group
            values = {"assignment_group": group, "assignee": None, "supplier_id": supplier_id}
            target = TRANSITIONS[self.status].get(Action.ASSIGN)
        elif not notified:
            raise RuleViolation("a hierarchical escalation names who is notified", field="notify")
        summary = {k: v for k, v in details.items() if k != "from_group"}
        self._act(
            Action.ESCALATE,
            actor,
            now,
            reason,
            target=target,
            details=details,
            recorded={"escalation": summary},
            **values,
        )

    def declare_major(self, *, manager: str, actor: str, now: datetime, reason: str = "") -> None:
        """A major incident with the individual responsible for it (ISO/IEC 20000-1 8.1)."""
        if not manager.strip():
            raise RuleViolation("a major incident has a named manager", field="manager")
        self._act(
            Action.DECLARE_MAJOR,
            actor,
            now,
            reason,
            major=True,
            major_manager=manager.strip(),
            major_declared_at=now,
        )

    def record_review(self, review: PostIncidentReview) -> None:
        """Record (or revise) the post-incident review of a major incident."""
        self._act(
            Action.REVIEW,
            review.recorded_by,
            review.recorded_at,
            review=review,
        )

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
        impact: Impact | None,
        urgency: Urgency,
        ci_id: UUID | None,
        now: datetime,
        ci: AffectedCI | None = None,
        category: str | None = None,
        subcategory: str | None = None,
        service_id: UUID | None = None,
        matrix: PriorityMatrix = DEFAULT_PRIORITY_MATRIX,
    ) -> Incident:
        """Record an incident. On a CI (`ci_id`, looked up as `ci`): the CI must be known and not
        retired; its criticality gives the impact and its service the service when not given."""
        if not title.strip():
            raise RuleViolation("an incident needs a title", field="title")
        if subcategory and not category:
            raise RuleViolation("a subcategory needs a category", field="subcategory")
        if ci_id is not None:
            known = check_ci(ci_id, ci)
            impact = impact or impact_for_criticality(known.criticality)
            service_id = service_id or known.service_id
        if impact is None:
            raise RuleViolation("give the impact, or a ci_id whose criticality gives it", field="impact")
        incident = cls(
            id=incident_id,
            number=number,
            title=title.strip(),
            description=description,
            caller=caller,
            channel=channel,
            impact=impact,
            urgency=urgency,
            priority=priority_for(impact, urgency, matrix),
            status=IncidentStatus.NEW,
            ci_id=ci_id,
            opened_at=now,
            updated_at=now,
            category=category,
            subcategory=subcategory,
            service_id=service_id,
        )
        incident.pending_events.append(IncidentOpened(incident_id))
        return incident


EDITABLE: Final = frozenset({"title", "description", "category", "subcategory", "impact", "urgency"})
"""What PATCH may change; the rest changes through the actions."""


class DomainConflict:
    """Why a guarded action is refused (turned into a 409 by `_act`)."""

    def __init__(self, detail: str, **extensions: Any) -> None:
        self.detail = detail
        self.extensions = extensions


def _plain(value: Any) -> Any:
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
