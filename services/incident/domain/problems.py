"""Problems as pure domain code (ISO/IEC 20000-1 8.2): the problem record and its lifecycle
table (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from services.incident.domain.priority import Impact, Urgency, priority_for
from shared.errors import InvalidTransition, RuleViolation


class ProblemStatus(StrEnum):
    NEW = "new"
    UNDER_INVESTIGATION = "under_investigation"
    KNOWN_ERROR = "known_error"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ProblemAction(StrEnum):
    UPDATE = "update"  # edit the record's fields (title, root cause, workaround, ...)
    LINK_INCIDENT = "link_incident"
    LINK_CHANGE = "link_change"  # the change raised to fix it (an RFC)
    INVESTIGATE = "investigate"
    PUBLISH_KNOWN_ERROR = "publish_known_error"
    RESOLVE = "resolve"
    REOPEN = "reopen"  # the fix did not hold: back to investigation
    CLOSE = "close"
    CANCEL = "cancel"


class ProblemOrigin(StrEnum):
    MANUAL = "manual"
    RECURRENCE = "recurrence"
    OUTAGE = "outage"  # the investigation of an unplanned outage (6.3), opened by the service


S, A = ProblemStatus, ProblemAction
_EDITS: Final = {A.UPDATE: None, A.LINK_INCIDENT: None, A.LINK_CHANGE: None}
# The lifecycle as a table: status -> action -> the status it leads to (None: the status stays).
TRANSITIONS: Final[dict[ProblemStatus, dict[ProblemAction, ProblemStatus | None]]] = {
    S.NEW: {**_EDITS, A.INVESTIGATE: S.UNDER_INVESTIGATION, A.CANCEL: S.CANCELLED},
    S.UNDER_INVESTIGATION: {
        **_EDITS,
        A.PUBLISH_KNOWN_ERROR: S.KNOWN_ERROR,
        A.RESOLVE: S.RESOLVED,
        A.CANCEL: S.CANCELLED,
    },
    S.KNOWN_ERROR: {**_EDITS, A.RESOLVE: S.RESOLVED, A.CANCEL: S.CANCELLED},
    S.RESOLVED: {A.LINK_INCIDENT: None, A.LINK_CHANGE: None, A.CLOSE: S.CLOSED, A.REOPEN: S.UNDER_INVESTIGATION},
    S.CLOSED: {},
    S.CANCELLED: {},
}

OPEN_STATUSES: Final = frozenset({S.NEW, S.UNDER_INVESTIGATION, S.KNOWN_ERROR})
"""A problem that new recurring incidents are added to (not yet resolved, closed or cancelled)."""

EDITABLE_FIELDS: Final = (
    "title",
    "description",
    "ci_id",
    "service_id",
    "category",
    "impact",
    "urgency",
    "owner",
    "root_cause",
    "workaround",
)


@dataclass(frozen=True)
class ProblemOpened:
    problem_id: UUID
    actor: str


@dataclass(frozen=True)
class ProblemChanged:
    """An action changed the problem; `changes` is field -> (old, new)."""

    problem_id: UUID
    action: ProblemAction
    actor: str
    previous_status: ProblemStatus
    status: ProblemStatus
    changes: dict[str, tuple[Any, Any]]
    reason: str = ""
    added_incident_ids: tuple[UUID, ...] = ()


@dataclass
class Problem:
    id: UUID
    number: str
    title: str
    description: str
    status: ProblemStatus
    origin: ProblemOrigin
    impact: Impact
    urgency: Urgency
    priority: int
    opened_at: datetime
    updated_at: datetime
    opened_by: str
    version: int = 1
    ci_id: UUID | None = None
    service_id: UUID | None = None
    category: str | None = None
    owner: str | None = None
    root_cause: str = ""
    workaround: str = ""
    resolution: str = ""
    change_id: UUID | None = None
    change_number: str | None = None
    known_error_id: UUID | None = None
    recurrence_key: str | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    incident_ids: list[UUID] = field(default_factory=list)
    pending_events: list[ProblemOpened | ProblemChanged] = field(default_factory=list, compare=False, repr=False)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def allowed_actions(self) -> list[str]:
        return sorted(a.value for a in TRANSITIONS[self.status])

    def _act(
        self,
        action: ProblemAction,
        actor: str,
        now: datetime,
        reason: str = "",
        added: tuple[UUID, ...] = (),
        **values: Any,
    ) -> None:
        if action not in TRANSITIONS[self.status]:
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())
        target = TRANSITIONS[self.status][action] or self.status
        changes: dict[str, tuple[Any, Any]] = {}
        if target is not self.status:
            changes["status"] = (self.status.value, target.value)
        for name, value in values.items():
            old = getattr(self, name)
            if old != value:
                changes[name] = (_plain(old), _plain(value))
                setattr(self, name, value)
        if "impact" in changes or "urgency" in changes:
            priority = priority_for(self.impact, self.urgency)
            if priority != self.priority:
                changes["priority"] = (self.priority, priority)
                self.priority = priority
        if added:
            self.incident_ids.extend(added)
            changes["incident_ids"] = ([], [str(i) for i in added])
        if not changes:
            return  # nothing changed: no new version, no event
        previous, self.status = self.status, target
        self.version += 1
        self.updated_at = now
        self.pending_events.append(ProblemChanged(self.id, action, actor, previous, target, changes, reason, added))

    # ------------------------------------------------------------------ edits (status stays)

    def update(self, values: dict[str, Any], actor: str, now: datetime, reason: str = "") -> None:
        unknown = sorted(set(values) - set(EDITABLE_FIELDS))
        if unknown:
            raise RuleViolation(f"these fields cannot be edited: {', '.join(unknown)}", field=unknown[0])
        if "title" in values and not str(values["title"] or "").strip():
            raise RuleViolation("a problem needs a title", field="title")
        if self.status is S.KNOWN_ERROR:
            for name in ("root_cause", "workaround"):
                if name in values and not str(values[name] or "").strip():
                    raise RuleViolation(f"a known error keeps its {name.replace('_', ' ')}", field=name)
        self._act(A.UPDATE, actor, now, reason, **values)

    def link_incidents(self, incident_ids: list[UUID], actor: str, now: datetime, reason: str = "") -> list[UUID]:
        """Add incidents not linked yet; returns the ones added (none: no event)."""
        added = tuple(dict.fromkeys(i for i in incident_ids if i not in self.incident_ids))
        if not added:
            if A.LINK_INCIDENT not in TRANSITIONS[self.status]:
                raise InvalidTransition(A.LINK_INCIDENT.value, self.status.value, self.allowed_actions())
            return []
        self._act(A.LINK_INCIDENT, actor, now, reason, added=added)
        return list(added)

    def link_change(self, change_id: UUID, change_number: str, actor: str, now: datetime, reason: str = "") -> None:
        if not change_number.strip():
            raise RuleViolation("name the change by its number too", field="change_number")
        self._act(A.LINK_CHANGE, actor, now, reason, change_id=change_id, change_number=change_number.strip())

    # ------------------------------------------------------------------ the lifecycle

    def investigate(self, actor: str, now: datetime, owner: str | None = None) -> None:
        self._act(A.INVESTIGATE, actor, now, owner=owner or self.owner or actor)

    def publish_known_error(
        self, *, root_cause: str, workaround: str, known_error_id: UUID, actor: str, now: datetime
    ) -> None:
        """Record root cause and workaround: the problem is a known error from now on."""
        root_cause = (root_cause or self.root_cause).strip()
        workaround = (workaround or self.workaround).strip()
        if A.PUBLISH_KNOWN_ERROR not in TRANSITIONS[self.status]:
            raise InvalidTransition(A.PUBLISH_KNOWN_ERROR.value, self.status.value, self.allowed_actions())
        given = [("root_cause", root_cause), ("workaround", workaround)]
        missing = [(name, "required to publish a known error") for name, value in given if not value]
        if missing:
            raise RuleViolation.of_fields(missing)
        self._act(
            A.PUBLISH_KNOWN_ERROR,
            actor,
            now,
            root_cause=root_cause,
            workaround=workaround,
            known_error_id=known_error_id,
        )

    def resolve(self, *, resolution: str, actor: str, now: datetime) -> None:
        if A.RESOLVE not in TRANSITIONS[self.status]:
            raise InvalidTransition(A.RESOLVE.value, self.status.value, self.allowed_actions())
        if not resolution.strip():
            raise RuleViolation("say how the problem was resolved", field="resolution")
        self._act(A.RESOLVE, actor, now, resolution.strip(), resolution=resolution.strip(), resolved_at=now)

    def reopen(self, reason: str, actor: str, now: datetime) -> None:
        if A.REOPEN not in TRANSITIONS[self.status]:
            raise InvalidTransition(A.REOPEN.value, self.status.value, self.allowed_actions())
        if not reason.strip():
            raise RuleViolation("say why the problem is reopened", field="reason")
        self._act(A.REOPEN, actor, now, reason.strip(), resolved_at=None)

    def close(self, actor: str, now: datetime, reason: str = "") -> None:
        self._act(A.CLOSE, actor, now, reason, closed_at=now)

    def cancel(self, reason: str, actor: str, now: datetime) -> None:
        if A.CANCEL not in TRANSITIONS[self.status]:
            raise InvalidTransition(A.CANCEL.value, self.status.value, self.allowed_actions())
        if not reason.strip():
            raise RuleViolation("say why the problem is cancelled", field="reason")
        self._act(A.CANCEL, actor, now, reason.strip(), closed_at=now)

    @classmethod
    def open(
        cls,
        *,
        problem_id: UUID,
        number: str,
        title: str,
        description: str,
        origin: ProblemOrigin,
        actor: str,
        now: datetime,
        impact: Impact = Impact.MEDIUM,
        urgency: Urgency = Urgency.MEDIUM,
        ci_id: UUID | None = None,
        service_id: UUID | None = None,
        category: str | None = None,
        owner: str | None = None,
        incident_ids: list[UUID] | None = None,
        recurrence_key: str | None = None,
    ) -> Problem:
        if not title.strip():
            raise RuleViolation("a problem needs a title", field="title")
        problem = cls(
            id=problem_id,
            number=number,
            title=title.strip(),
            description=description,
            status=S.NEW,
            origin=origin,
            impact=impact,
            urgency=urgency,
            priority=priority_for(impact, urgency),
            opened_at=now,
            updated_at=now,
            opened_by=actor,
            ci_id=ci_id,
            service_id=service_id,
            category=category,
            owner=owner,
            recurrence_key=recurrence_key,
            incident_ids=list(dict.fromkeys(incident_ids or [])),
        )
        problem.pending_events.append(ProblemOpened(problem_id, actor))
        return problem


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Impact | Urgency):
        return int(value)
    return value
