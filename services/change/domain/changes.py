"""The change record as pure domain code: its lifecycle, the rules for drafting one, its review (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from services.change.domain.cab import Risk, Vote, add_vote, check_decider, quorum_reached
from services.change.domain.design import ClauseFive, DesignRecord, ServiceTransition
from shared.errors import Conflict, Forbidden, InvalidTransition, RuleViolation


class ChangeType(StrEnum):
    STANDARD = "standard"  # pre-authorised: follows an approved change model
    NORMAL = "normal"
    EMERGENCY = "emergency"  # made at once: needs a justification, reviewed afterwards


class ChangeStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ASSESSED = "assessed"
    APPROVED = "approved"
    REJECTED = "rejected"
    SCHEDULED = "scheduled"
    IMPLEMENTING = "implementing"
    IMPLEMENTED = "implemented"
    FAILED = "failed"
    REVIEWED = "reviewed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Action(StrEnum):
    SUBMIT = "submit"
    ASSESS = "assess"
    APPROVE = "approve"
    REJECT = "reject"
    SCHEDULE = "schedule"
    START = "start"
    COMPLETE = "complete"
    FAIL = "fail"
    REVIEW = "review"
    CLOSE = "close"
    CANCEL = "cancel"


S, A = ChangeStatus, Action
# The lifecycle as a table: status -> action -> the status it leads to.
TRANSITIONS: Final[Mapping[ChangeStatus, Mapping[Action, ChangeStatus]]] = {
    S.DRAFT: {A.SUBMIT: S.SUBMITTED, A.CANCEL: S.CANCELLED},
    S.SUBMITTED: {A.ASSESS: S.ASSESSED, A.CANCEL: S.CANCELLED},
    S.ASSESSED: {A.APPROVE: S.APPROVED, A.REJECT: S.REJECTED, A.CANCEL: S.CANCELLED},
    S.APPROVED: {A.SCHEDULE: S.SCHEDULED, A.CANCEL: S.CANCELLED},
    S.SCHEDULED: {A.START: S.IMPLEMENTING, A.CANCEL: S.CANCELLED},
    S.IMPLEMENTING: {A.COMPLETE: S.IMPLEMENTED, A.FAIL: S.FAILED},
    S.IMPLEMENTED: {A.REVIEW: S.REVIEWED},
    S.FAILED: {A.REVIEW: S.REVIEWED},
    S.REVIEWED: {A.CLOSE: S.CLOSED},
    S.REJECTED: {A.CLOSE: S.CLOSED},
    S.CLOSED: {},
    S.CANCELLED: {},
}
FINAL: Final = frozenset(s for s, moves in TRANSITIONS.items() if not moves)
"""Closed and cancelled: nothing moves a change on from these (a failed one is reviewed, then closed)."""


class CmdbOutcome(StrEnum):
    """What the CMDB did with the change's planned CI changes."""

    NONE = "none"
    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


@dataclass(frozen=True)
class IncidentLink:
    """An incident the incident service linked to this change (probable cause, or by hand)."""

    incident_id: UUID
    incident_number: str
    reason: str
    ci_id: UUID | None
    linked_at: datetime
    service_id: UUID | None = None


@dataclass(frozen=True)
class PostImplementationReview:
    """Was the change effective (ISO/IEC 20000-1 9.2): outcome, incidents it caused, lessons."""

    outcome: str
    lessons: str
    objectives_met: bool | None
    incident_ids: tuple[UUID, ...]
    by: str
    at: datetime


@dataclass(frozen=True)
class StatusChanged:
    """Domain event: the change moved from `previous` to its current status by `action`."""

    change_id: UUID
    action: Action
    previous: ChangeStatus
    status: ChangeStatus
    actor: str
    detail: Mapping[str, Any] = field(default_factory=dict)


def as_utc(value: datetime | None, name: str) -> datetime | None:
    """A time given with its zone, in UTC; a naive one is refused (naming the field)."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise RuleViolation(f"{name} needs a time zone", field=name)
    return value.astimezone(UTC)


def required_text(value: str, name: str, reason: str) -> str:
    """The text stripped; empty is refused with `reason` (naming the field)."""
    if not value.strip():
        raise RuleViolation(reason, field=name)
    return value.strip()


@dataclass(frozen=True)
class ChangeDrafted:
    """Domain event: a request for change was recorded in draft."""

    change_id: UUID


@dataclass
class Change(ClauseFive):
    """A request for change and its record; the clause 5 steps come from `ClauseFive`."""

    id: UUID
    number: str
    title: str
    description: str
    justification: str
    change_type: ChangeType
    category: str | None
    status: ChangeStatus
    requester: str
    planned_start: datetime | None
    planned_end: datetime | None
    affected_ci_ids: tuple[UUID, ...]
    created_at: datetime
    updated_at: datetime
    version: int = 1
    planned_ci_changes: tuple[Mapping[str, Any], ...] = ()
    risk: Risk | None = None
    risk_reasons: tuple[str, ...] = ()
    assessed_by: str | None = None
    risk_set_by: str | None = None
    """Who set (or overrode) its risk by hand; None when the risk was computed."""
    failed_at: datetime | None = None
    closed_at: datetime | None = None
    """When it reached a final status (`FINAL`): its retention period counts from here (4.3.3)."""
    votes: tuple[Vote, ...] = ()
    cmdb_outcome: CmdbOutcome = CmdbOutcome.NONE
    cmdb_errors: tuple[Mapping[str, Any], ...] = ()
    notes: str = ""
    implementation_plan: str = ""
    backout_plan: str = ""
    test_plan: str = ""
    service_ids: tuple[UUID, ...] = ()
    """The services the change touches: its CIs' services plus the ones named on it."""
    template_id: UUID | None = None
    """The standard change template (pre-approved model) it follows, with the model's plans."""
    major: bool = False
    service_transition: ServiceTransition | None = None
    backed_out: bool | None = None
    design: DesignRecord | None = None
    pir: PostImplementationReview | None = None
    incidents: tuple[IncidentLink, ...] = ()
    pending_events: list[ChangeDrafted | StatusChanged] = field(default_factory=list, compare=False, repr=False)

    def allowed_actions(self) -> list[str]:
        return [a.value for a in TRANSITIONS[self.status]]

    def _move(self, action: Action, actor: str, now: datetime, **detail: Any) -> None:
        target = TRANSITIONS[self.status].get(action)
        if target is None:
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())
        previous, self.status = self.status, target
        self.version += 1
        self.updated_at = now
        self.closed_at = now if target in FINAL else None
        self.pending_events.append(StatusChanged(self.id, action, previous, target, actor, detail))

    def submit(self, actor: str, now: datetime, *, pre_approved: bool = False) -> None:
        """Submit the change. Only a standard change made from an active template, within the
        template's scope (`pre_approved`, checked by the caller), is approved at once; any other
        change, a standard one without a template included, goes on to assessment and approval."""
        self._move(Action.SUBMIT, actor, now)
        if self.change_type is ChangeType.STANDARD and self.template_id is not None and pre_approved:
            # Pre-authorised: a standard change follows an approved model and skips assessment and CAB.
            self.status = ChangeStatus.APPROVED
            self.pending_events.append(
                StatusChanged(self.id, Action.APPROVE, ChangeStatus.SUBMITTED, ChangeStatus.APPROVED, actor)
            )

    def assess(
        self, risk: Risk, actor: str, now: datetime, reasons: Iterable[str] = (), *, computed: bool = False
    ) -> None:
        """Record the risk and who assessed it; unless it was `computed`, the assessor set it by hand."""
        self._move(Action.ASSESS, actor, now, risk=risk.value)
        self.risk = risk
        self.risk_reasons = tuple(reasons)
        self.assessed_by = actor
        self.risk_set_by = None if computed else actor

    def needs_cab(self) -> bool:
        """A high-risk change that is assessed (a normal one, or a standard one not pre-approved by a
        template) is decided by the CAB; an emergency has one approver and is reviewed afterwards."""
        return self.change_type is not ChangeType.EMERGENCY and self.risk is Risk.HIGH

    def decide(self, *, approve: bool, voter: str, roles: frozenset[str], comment: str, now: datetime) -> None:
        """An approver's decision. Nobody decides on their own change, and whoever set its risk by hand
        is not its only approver (they may reject, or be one of a CAB quorum). Low and medium risk, and
        emergencies (one approver, reviewed afterwards), need a change manager; a high-risk normal
        change needs `CAB_QUORUM` approving CAB members, and one rejection rejects it."""
        action = Action.APPROVE if approve else Action.REJECT
        if action not in TRANSITIONS[self.status]:
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())
        check_decider(voter=voter, requester=self.requester, roles=roles, by_cab=self.needs_cab())
        if approve and voter == self.risk_set_by and not self.needs_cab():
            raise Forbidden(
                f"{voter} set the risk of {self.number}: another change manager approves it (separation of duties)",
            )
        if approve and (missing := self.design_missing()):
            raise Conflict(
                f"{self.number} needs its design and transition record (ISO/IEC 20000-1 clause 5) before it is"
                f" approved; missing: {', '.join(missing)}",
                missing=missing,
            )
        self.votes = add_vote(self.votes, Vote(voter, approve, comment, now), number=self.number)
        if not approve:
            self._move(Action.REJECT, voter, now, reason=comment)
        elif not self.needs_cab() or quorum_reached(self.votes):
            self._move(Action.APPROVE, voter, now)
        else:
            self.version += 1  # the vote is recorded; the change waits for the quorum
            self.updated_at = now

    def schedule(self, actor: str, now: datetime, refusals: Iterable[str] = ()) -> None:
        """Put the change on the schedule; `refusals` (blackouts it falls in) keep it off."""
        if reasons := list(refusals):
            raise Conflict(f"{self.number} cannot be scheduled: " + "; ".join(reasons), refusals=reasons)
        if self.planned_start is None or self.planned_end is None:
            raise RuleViolation(
                "a change is scheduled for its planned window: set planned_start and planned_end", field="planned_start"
            )
        self._move(Action.SCHEDULE, actor, now)

    def start(self, actor: str, now: datetime) -> None:
        self._move(Action.START, actor, now)

    def complete(self, actor: str, now: datetime) -> None:
        self._move(Action.COMPLETE, actor, now)
        self.cmdb_outcome = CmdbOutcome.PENDING if self.planned_ci_changes else CmdbOutcome.NONE

    def fail(self, notes: str, actor: str, now: datetime, *, backed_out: bool = True) -> None:
        if not notes.strip():
            raise RuleViolation("say what failed and how it was backed out", field="notes")
        self._move(Action.FAIL, actor, now, notes=notes, backed_out=backed_out)
        self.notes = notes
        self.failed_at = now
        self.backed_out = backed_out

    def review_required(self) -> bool:
        """A full post-implementation review (with lessons) for emergency, failed and clause 5 changes."""
        return self.change_type is ChangeType.EMERGENCY or self.failed_at is not None or self.needs_design()

    def review(
        self, outcome: str, actor: str, now: datetime, *, lessons: str = "", objectives_met: bool | None = None
    ) -> None:
        """The post-implementation review: outcome, the incidents linked to the change so far, lessons."""
        if not outcome.strip():
            raise RuleViolation("a review records its outcome", field="outcome")
        if self.review_required() and not lessons.strip():
            why = "a failed" if self.failed_at is not None else "a major or service"
            why = "an emergency" if self.change_type is ChangeType.EMERGENCY else why
            raise RuleViolation(f"the review of {why} change records its lessons", field="lessons")
        incident_ids = tuple(i.incident_id for i in self.incidents)
        self._move(
            Action.REVIEW,
            actor,
            now,
            outcome=outcome,
            lessons=lessons,
            objectives_met=objectives_met,
            incident_ids=list(incident_ids),
        )
        self.notes = outcome
        self.pir = PostImplementationReview(outcome, lessons, objectives_met, incident_ids, actor, now)

    def close(self, actor: str, now: datetime) -> None:
        if (
            self.status is ChangeStatus.REVIEWED
            and self.needs_design()
            and (self.design is None or self.design.go_live is None)
        ):
            raise Conflict(
                f"{self.number} went through design and transition: record the go-live acceptance before closing it",
                missing=["go_live_acceptance"],
            )
        self._move(
            Action.CLOSE,
            actor,
            now,
            go_live_accepted=self.design.go_live.accepted if self.design and self.design.go_live else None,
        )

    def cancel(self, actor: str, now: datetime) -> None:
        self._move(Action.CANCEL, actor, now)

    def record_cmdb_outcome(self, applied: bool, errors: Iterable[Mapping[str, Any]], now: datetime) -> None:
        """The CMDB's answer to the implemented change: a rejection flags the change for follow-up."""
        self.cmdb_outcome = CmdbOutcome.APPLIED if applied else CmdbOutcome.REJECTED
        self.cmdb_errors = tuple(errors)
        self.version += 1
        self.updated_at = now

    @classmethod
    def draft(
        cls,
        *,
        change_id: UUID,
        number: str,
        title: str,
        description: str,
        justification: str,
        change_type: ChangeType,
        category: str | None,
        requester: str,
        planned_start: datetime | None,
        planned_end: datetime | None,
        affected_ci_ids: Iterable[UUID],
        now: datetime,
        planned_ci_changes: Iterable[Mapping[str, Any]] = (),
        service_ids: Iterable[UUID] = (),
        template_id: UUID | None = None,
        implementation_plan: str = "",
        backout_plan: str = "",
        test_plan: str = "",
        major: bool = False,
        service_transition: ServiceTransition | None = None,
    ) -> Change:
        if not title.strip():
            raise RuleViolation("a change needs a title", field="title")
        if change_type is ChangeType.STANDARD and (major or service_transition is not None):
            raise RuleViolation(
                "a major change, or one that introduces, removes or transfers a service, goes through design and"
                " transition: it cannot be a pre-authorised standard change",
                field="type",
            )
        if change_type is ChangeType.EMERGENCY and not justification.strip():
            raise RuleViolation("an emergency change needs a justification", field="justification")
        start, end = as_utc(planned_start, "planned_start"), as_utc(planned_end, "planned_end")
        if start is not None and end is not None and end <= start:
            raise RuleViolation("the planned end must be after the planned start", field="planned_end")
        change = cls(
            id=change_id,
            number=number,
            title=title.strip(),
            description=description,
            justification=justification,
            change_type=change_type,
            category=category,
            status=ChangeStatus.DRAFT,
            requester=requester,
            planned_start=start,
            planned_end=end,
            # A set in a stable order: the same CIs read back the same way, whatever order they came in.
            affected_ci_ids=tuple(sorted(set(affected_ci_ids))),
            created_at=now,
            updated_at=now,
            planned_ci_changes=tuple(planned_ci_changes),
            service_ids=tuple(sorted(set(service_ids))),
            template_id=template_id,
            implementation_plan=implementation_plan,
            backout_plan=backout_plan,
            test_plan=test_plan,
            major=major,
            service_transition=service_transition,
        )
        if template_id is not None and change_type is not ChangeType.STANDARD:
            raise RuleViolation("a change from a template is a standard change", field="type")
        change.pending_events.append(ChangeDrafted(change_id))
        return change
