"""The improvement register (ISO/IEC 20000-1 4.5.5) as pure rules: one register of improvements and
nonconformities, each with its source, owner, target date, a lifecycle kept as a table and the
benefit measured (a figure before and after). No I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final
from uuid import UUID

from shared.errors import InvalidTransition, RuleViolation


class ImprovementStatus(StrEnum):
    RAISED = "raised"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    """Done; its benefit is still to be measured."""
    CLOSED = "closed"
    """Its benefit measured (the figure after) and the entry closed."""
    REJECTED = "rejected"


class ImprovementAction(StrEnum):
    UPDATE = "update"  # owner, target date, description, the figure before
    ACCEPT = "accept"
    START = "start"
    IMPLEMENT = "implement"
    CLOSE = "close"  # the benefit measured: the figure after
    REJECT = "reject"
    REOPEN = "reopen"


class ImprovementSource(StrEnum):
    """Where an entry came from: a process's event, or a person (manual)."""

    SLA_BREACH = "sla_breach"
    FAILED_CHANGE = "failed_change"
    POST_IMPLEMENTATION_REVIEW = "post_implementation_review"
    COMPLAINT = "complaint"
    SURVEY = "survey"
    REPORT_FINDING = "report_finding"
    AUDIT_FINDING = "audit_finding"
    MANUAL = "manual"


class ImprovementKind(StrEnum):
    IMPROVEMENT = "improvement"
    NONCONFORMITY = "nonconformity"


S, A = ImprovementStatus, ImprovementAction
# The lifecycle as a table: status -> action -> the status it leads to (None: the status stays).
TRANSITIONS: Final[dict[ImprovementStatus, dict[ImprovementAction, ImprovementStatus | None]]] = {
    S.RAISED: {A.UPDATE: None, A.ACCEPT: S.ACCEPTED, A.REJECT: S.REJECTED},
    S.ACCEPTED: {A.UPDATE: None, A.START: S.IN_PROGRESS, A.REJECT: S.REJECTED},
    S.IN_PROGRESS: {A.UPDATE: None, A.IMPLEMENT: S.IMPLEMENTED},
    S.IMPLEMENTED: {A.UPDATE: None, A.CLOSE: S.CLOSED, A.REOPEN: S.IN_PROGRESS},
    S.CLOSED: {A.REOPEN: S.IN_PROGRESS},
    S.REJECTED: {A.REOPEN: S.RAISED},
}


@dataclass(frozen=True)
class Benefit:
    """The figure the improvement is meant to move, measured before and after."""

    measure: str = ""
    before: float | None = None
    after: float | None = None

    @property
    def change(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass(frozen=True)
class Improvement:
    id: UUID
    number: str
    kind: ImprovementKind
    title: str
    description: str
    source: ImprovementSource
    source_ref: str
    """The record it came from (a change's or complaint's number, a service and month for breaches)."""
    owner: str
    target_date: date
    status: ImprovementStatus
    benefit: Benefit
    raised_by: str
    raised_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    reason: str = ""
    """Why it was rejected or reopened."""
    version: int = 1

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not self.title.strip():
            errors.append(("title", "an entry needs a title"))
        if not self.owner.strip():
            errors.append(("owner", "an entry has an owner"))
        if errors:
            raise RuleViolation.of_fields(errors)

    def allowed(self) -> list[str]:
        return sorted(str(a) for a in TRANSITIONS[self.status])

    def _move(self, action: ImprovementAction) -> ImprovementStatus:
        moves = TRANSITIONS[self.status]
        if action not in moves:
            raise InvalidTransition(str(action), str(self.status), self.allowed())
        return moves[action] or self.status

    def updated(
        self,
        now: datetime,
        *,
        owner: str | None = None,
        target_date: date | None = None,
        description: str | None = None,
        measure: str | None = None,
        before: float | None = None,
    ) -> Improvement:
        self._move(A.UPDATE)
        benefit = replace(
            self.benefit,
            measure=self.benefit.measure if measure is None else measure,
            before=self.benefit.before if before is None else before,
        )
        return replace(
            self,
            owner=self.owner if owner is None else owner,
            target_date=self.target_date if target_date is None else target_date,
            description=self.description if description is None else description,
            benefit=benefit,
            updated_at=now,
            version=self.version + 1,
        )

    def acted(
        self, action: ImprovementAction, now: datetime, *, after: float | None = None, reason: str = ""
    ) -> Improvement:
        """Move along the lifecycle. Closing needs the benefit measured: the figure before (set
        when raised or by an update) and the figure after, given now."""
        if action is A.UPDATE:
            raise RuleViolation("an update is made with its own fields", field="action")
        status = self._move(action)
        benefit = self.benefit
        if action is A.CLOSE:
            errors: list[tuple[str, str]] = []
            if after is None:
                errors.append(("after", "closing records the figure measured after"))
            if benefit.before is None:
                errors.append(("before", "the figure before is recorded first (an update)"))
            if not benefit.measure.strip():
                errors.append(("measure", "name what was measured first (an update)"))
            if errors:
                raise RuleViolation.of_fields(errors)
            benefit = replace(benefit, after=after)
        if action in (A.REJECT, A.REOPEN) and not reason.strip():
            raise RuleViolation(f"say why ({action})", field="reason")
        return replace(
            self,
            status=status,
            benefit=benefit,
            reason=reason or self.reason,
            closed_at=now if status is S.CLOSED else None,
            updated_at=now,
            version=self.version + 1,
        )


def number_of(value: int) -> str:
    return f"IMP{value:07d}"


# ---------------------------------------------------------------------------- intake from events


@dataclass(frozen=True)
class IntakePolicy:
    """What turns a process's event into a register entry, and who owns it."""

    sla_breach_threshold: int = 3
    """Breaches of one service's targets in one calendar month that raise an entry (the one that reaches it)."""
    low_score_max: int = 2
    """A survey score at or below this raises an entry (unless the score opened a complaint)."""
    default_owner: str = "service-level-manager"
    target_days: int = 30
    """An entry raised from an event is due this many days after it was raised."""

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not 1 <= self.sla_breach_threshold <= 10_000:
            errors.append(("sla_breach_threshold", "between 1 and 10000"))
        if not 1 <= self.low_score_max <= 5:
            errors.append(("low_score_max", "between 1 and 5"))
        if not self.default_owner.strip():
            errors.append(("default_owner", "an owner is named"))
        if not 1 <= self.target_days <= 3650:
            errors.append(("target_days", "between 1 and 3650"))
        if errors:
            raise RuleViolation.of_fields(errors)


@dataclass(frozen=True)
class Proposal:
    """An entry an event asks for; `source_ref` is unique per source, so a second one is dropped."""

    kind: ImprovementKind
    source: ImprovementSource
    source_ref: str
    title: str
    description: str
    owner: str | None = None
    measure: str = ""
    before: float | None = None


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def breach_proposal(service: str, month: str, count: int, policy: IntakePolicy) -> Proposal | None:
    """The breach that brings one service's breaches in a month up to the threshold raises an entry."""
    if count != policy.sla_breach_threshold:
        return None
    return Proposal(
        ImprovementKind.NONCONFORMITY,
        ImprovementSource.SLA_BREACH,
        f"{service}/{month}",
        f"{count} SLA breaches for service {service} in {month}",
        f"The service's SLA targets were breached {count} times in {month} (threshold {policy.sla_breach_threshold}).",
        measure="SLA breaches per month",
        before=float(count),
    )


def due_date(raised_at: datetime, policy: IntakePolicy) -> date:
    return (raised_at + timedelta(days=policy.target_days)).date()
