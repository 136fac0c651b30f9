"""Service complaints as pure domain code (ISO/IEC 20000-1 7.1, 2018: 8.3.2): the complaint record,
its lifecycle table, its acknowledge and respond targets and the escalation to the customer's
relationship manager (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from shared.errors import InvalidTransition, RuleViolation


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    UNDER_INVESTIGATION = "under_investigation"
    ACTION_TAKEN = "action_taken"
    RESOLVED_PENDING_CONFIRMATION = "resolved_pending_confirmation"
    CLOSED = "closed"
    ESCALATED = "escalated"
    """With the customer's relationship manager: not resolved through the normal channels."""
    REOPENED = "reopened"


class ComplaintAction(StrEnum):
    UPDATE = "update"  # edit the record's fields (title, owner, root cause, ...)
    LINK = "link"  # link incidents, requests, changes or suppliers concerned
    ACKNOWLEDGE = "acknowledge"
    INVESTIGATE = "investigate"
    TAKE_ACTION = "take_action"
    RESOLVE = "resolve"  # put the outcome to the complainant, who confirms or reopens
    CONFIRM = "confirm"  # the complainant is satisfied: formally closed
    CLOSE = "close"  # formally closed without the complainant's confirmation, saying why
    ESCALATE = "escalate"
    REOPEN = "reopen"


class ComplaintChannel(StrEnum):
    """How the complaint was received."""

    PORTAL = "portal"
    EMAIL = "email"
    PHONE = "phone"
    IN_PERSON = "in_person"
    LETTER = "letter"
    OTHER = "other"
    SURVEY = "survey"
    """Opened by policy from a low satisfaction survey score."""


class ComplaintLinkKind(StrEnum):
    INCIDENT = "incident"
    REQUEST = "request"
    CHANGE = "change"
    SUPPLIER = "supplier"


S, A = ComplaintStatus, ComplaintAction
_EDITS: Final = {A.UPDATE: None, A.LINK: None}
# The lifecycle as a table: status -> action -> the status it leads to (None: the status stays).
TRANSITIONS: Final[dict[ComplaintStatus, dict[ComplaintAction, ComplaintStatus | None]]] = {
    S.RECEIVED: {**_EDITS, A.ACKNOWLEDGE: S.ACKNOWLEDGED},
    S.ACKNOWLEDGED: {**_EDITS, A.INVESTIGATE: S.UNDER_INVESTIGATION, A.ESCALATE: S.ESCALATED},
    S.UNDER_INVESTIGATION: {**_EDITS, A.TAKE_ACTION: S.ACTION_TAKEN, A.ESCALATE: S.ESCALATED},
    S.ACTION_TAKEN: {
        **_EDITS,
        A.RESOLVE: S.RESOLVED_PENDING_CONFIRMATION,
        A.INVESTIGATE: S.UNDER_INVESTIGATION,  # the action did not settle it
        A.ESCALATE: S.ESCALATED,
    },
    S.RESOLVED_PENDING_CONFIRMATION: {
        A.LINK: None,
        A.CONFIRM: S.CLOSED,
        A.CLOSE: S.CLOSED,
        A.REOPEN: S.REOPENED,
        A.ESCALATE: S.ESCALATED,
    },
    S.ESCALATED: {
        **_EDITS,
        A.INVESTIGATE: S.UNDER_INVESTIGATION,
        A.TAKE_ACTION: S.ACTION_TAKEN,
        A.RESOLVE: S.RESOLVED_PENDING_CONFIRMATION,
    },
    S.REOPENED: {**_EDITS, A.INVESTIGATE: S.UNDER_INVESTIGATION, A.ESCALATE: S.ESCALATED},
    S.CLOSED: {A.REOPEN: S.REOPENED},
}

EDITABLE_FIELDS: Final = (
    "title",
    "description",
    "category",
    "service_id",
    "relationship_manager",
    "owner",
    "investigation_notes",
    "root_cause",
)


@dataclass(frozen=True)
class ComplaintTargets:
    """How long after receipt a complaint is to be acknowledged, and responded to (its outcome put
    to the complainant: resolved pending confirmation). Wall-clock time: a complainant waits on
    weekends too."""

    acknowledge: timedelta
    respond: timedelta

    def __post_init__(self) -> None:
        if self.acknowledge <= timedelta(0) or self.respond <= timedelta(0):
            raise ValueError("complaint targets are positive durations")
        if self.respond < self.acknowledge:
            raise ValueError("the respond target cannot be shorter than the acknowledge target")


def breached(due_at: datetime, met_at: datetime | None, now: datetime) -> bool:
    """A target is breached once passed unmet, or met late; met exactly at `due_at` is in time."""
    return (met_at or now) > due_at


@dataclass(frozen=True)
class ComplaintLink:
    """A record the complaint concerns; `number` is None for a supplier (the service keeps no
    supplier register to check it against)."""

    kind: ComplaintLinkKind
    id: UUID
    number: str | None = None

    def label(self) -> str:
        return f"{self.kind.value}:{self.number or self.id}"


@dataclass(frozen=True)
class ComplaintReceived:
    complaint_id: UUID
    actor: str


@dataclass(frozen=True)
class ComplaintChanged:
    """An action changed the complaint; `changes` is field -> (old, new)."""

    complaint_id: UUID
    action: ComplaintAction
    actor: str
    previous_status: ComplaintStatus
    status: ComplaintStatus
    changes: dict[str, tuple[Any, Any]]
    reason: str = ""
    added_links: tuple[ComplaintLink, ...] = ()


@dataclass
class Complaint:
    id: UUID
    number: str
    title: str
    description: str
    complainant: str
    received_via: ComplaintChannel
    status: ComplaintStatus
    received_at: datetime
    updated_at: datetime
    recorded_by: str
    acknowledge_due_at: datetime
    respond_due_at: datetime
    version: int = 1
    category: str | None = None
    service_id: UUID | None = None
    relationship_manager: str | None = None
    owner: str | None = None
    investigation_notes: str = ""
    root_cause: str = ""
    actions_taken: str = ""
    resolution: str = ""
    escalation_level: int = 0
    escalated_to: str | None = None
    escalated_at: datetime | None = None
    acknowledged_at: datetime | None = None
    responded_at: datetime | None = None
    closed_at: datetime | None = None
    closure_reason: str = ""
    closure_confirmed_by_customer: bool = False
    links: list[ComplaintLink] = field(default_factory=list)
    pending_events: list[ComplaintReceived | ComplaintChanged] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def receive(
        cls,
        *,
        complaint_id: UUID,
        title: str,
        description: str,
        complainant: str,
        received_via: ComplaintChannel,
        actor: str,
        now: datetime,
        targets: ComplaintTargets,
        category: str | None = None,
        service_id: UUID | None = None,
        relationship_manager: str | None = None,
    ) -> Complaint:
        given = (("title", title), ("complainant", complainant))
        errors = [(name, f"a complaint needs a {name}") for name, value in given if not value.strip()]
        if errors:
            raise RuleViolation.of_fields(errors)
        complaint = cls(
            id=complaint_id,
            number="",
            title=title.strip(),
            description=description,
            complainant=complainant.strip(),
            received_via=received_via,
            status=S.RECEIVED,
            received_at=now,
            updated_at=now,
            recorded_by=actor,
            acknowledge_due_at=now + targets.acknowledge,
            respond_due_at=now + targets.respond,
            category=category,
            service_id=service_id,
            relationship_manager=relationship_manager,
        )
        complaint.pending_events.append(ComplaintReceived(complaint_id, actor))
        return complaint

    def allowed_actions(self) -> list[str]:
        return sorted(a.value for a in TRANSITIONS[self.status])

    def acknowledge_breached(self, now: datetime) -> bool:
        return breached(self.acknowledge_due_at, self.acknowledged_at, now)

    def respond_breached(self, now: datetime) -> bool:
        return breached(self.respond_due_at, self.responded_at, now)

    def _check(self, action: ComplaintAction) -> None:
        if action not in TRANSITIONS[self.status]:
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())

    def _act(
        self,
        action: ComplaintAction,
        actor: str,
        now: datetime,
        reason: str = "",
        added: tuple[ComplaintLink, ...] = (),
        **values: Any,
    ) -> None:
        self._check(action)
        target = TRANSITIONS[self.status][action] or self.status
        changes: dict[str, tuple[Any, Any]] = {}
        if target is not self.status:
            changes["status"] = (self.status.value, target.value)
        for name, value in values.items():
            old = getattr(self, name)
            if old != value:
                changes[name] = (_plain(old), _plain(value))
                setattr(self, name, value)
        if added:
            self.links.extend(added)
            changes["links"] = ([], [link.label() for link in added])
        if not changes:
            return  # nothing changed: no new version, no event
        previous, self.status = self.status, target
        self.version += 1
        self.updated_at = now
        self.pending_events.append(ComplaintChanged(self.id, action, actor, previous, target, changes, reason, added))

    # ------------------------------------------------------------------ edits (status stays)

    def update(self, values: dict[str, Any], actor: str, now: datetime, reason: str = "") -> None:
        self._check(A.UPDATE)
        unknown = sorted(set(values) - set(EDITABLE_FIELDS))
        if unknown:
            raise RuleViolation(f"these fields cannot be edited: {', '.join(unknown)}", field=unknown[0])
        if "title" in values and not str(values["title"] or "").strip():
            raise RuleViolation("a complaint needs a title", field="title")
        self._act(A.UPDATE, actor, now, reason, **values)

    def link(self, links: list[ComplaintLink], actor: str, now: datetime, reason: str = "") -> list[ComplaintLink]:
        """Add the links not there yet (by kind and id); returns the ones added (none: no event)."""
        known = {(link.kind, link.id) for link in self.links}
        added = tuple({(k.kind, k.id): k for k in links if (k.kind, k.id) not in known}.values())
        self._act(A.LINK, actor, now, reason, added=added)
        return list(added)

    # ------------------------------------------------------------------ the lifecycle

    def acknowledge(self, actor: str, now: datetime, owner: str | None = None) -> None:
        """Tell the complainant it was received; whoever acknowledges owns it unless named."""
        self._act(A.ACKNOWLEDGE, actor, now, owner=owner or self.owner or actor, acknowledged_at=now)

    def investigate(self, actor: str, now: datetime, notes: str = "") -> None:
        self._check(A.INVESTIGATE)
        self._act(A.INVESTIGATE, actor, now, investigation_notes=notes.strip() or self.investigation_notes)

    def take_action(self, actions: str, actor: str, now: datetime) -> None:
        self._check(A.TAKE_ACTION)
        if not actions.strip():
            raise RuleViolation("say what action was taken", field="actions_taken")
        self._act(A.TAKE_ACTION, actor, now, actions_taken=actions.strip())

    def resolve(self, resolution: str, actor: str, now: datetime) -> None:
        """Put the outcome to the complainant: the first time meets the respond target."""
        self._check(A.RESOLVE)
        if not resolution.strip():
            raise RuleViolation("say what the complainant is told", field="resolution")
        self._act(A.RESOLVE, actor, now, resolution=resolution.strip(), responded_at=self.responded_at or now)

    def confirm(self, actor: str, now: datetime, reason: str = "") -> None:
        """The complainant confirms the resolution (or an agent records that they did)."""
        closure = reason.strip() or "confirmed by the complainant"
        self._act(
            A.CONFIRM,
            actor,
            now,
            reason,
            closed_at=now,
            closure_reason=closure,
            closure_confirmed_by_customer=True,
        )

    def close(self, reason: str, actor: str, now: datetime) -> None:
        """Formally close without the complainant's confirmation (no answer, say): why is required.
        `closure_confirmed_by_customer` is already false here (only reopening leaves closed)."""
        self._check(A.CLOSE)
        if not reason.strip():
            raise RuleViolation("say why the complaint is closed unconfirmed", field="reason")
        self._act(
            A.CLOSE,
            actor,
            now,
            reason.strip(),
            closed_at=now,
            closure_reason=reason.strip(),
        )

    def escalate(self, reason: str, actor: str, now: datetime, relationship_manager: str | None = None) -> None:
        """To the customer's relationship manager (the one named now, else the one on record)."""
        self._check(A.ESCALATE)
        manager = (relationship_manager or "").strip() or self.relationship_manager
        errors = []
        if not reason.strip():
            errors.append(("reason", "say why the complaint is escalated"))
        if not manager:
            errors.append(("relationship_manager", "name the customer's relationship manager to escalate to"))
        if errors:
            raise RuleViolation.of_fields(errors)
        self._act(
            A.ESCALATE,
            actor,
            now,
            reason.strip(),
            relationship_manager=manager,
            escalated_to=manager,
            escalated_at=now,
            escalation_level=self.escalation_level + 1,
        )

    def reopen(self, reason: str, actor: str, now: datetime) -> None:
        """The complainant is not satisfied (before or after closure): back to be investigated."""
        self._check(A.REOPEN)
        if not reason.strip():
            raise RuleViolation("say why the complaint is reopened", field="reason")
        self._act(
            A.REOPEN,
            actor,
            now,
            reason.strip(),
            closed_at=None,
            closure_reason="",
            closure_confirmed_by_customer=False,
        )


def _plain(value: Any) -> Any:
    """A value as the history and the events record it (JSON-friendly)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    return value
