"""Internal audits (ISO/IEC 20000-1 4.5.4.2) as pure rules: the audit programme, each audit with its
lifecycle as a table, and its findings, each with a corrective action (the service reviews' action
lifecycle) and, when one was raised for it, the improvement register entry. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from services.reporting.domain.service_reviews import ReviewAction, action_json, action_of
from shared.errors import InvalidTransition, RuleViolation


@dataclass(frozen=True)
class AuditProgramme:
    """The planned audits of a period: their scope, criteria and who owns the programme."""

    id: UUID
    title: str
    period_start: date
    period_end: date
    scope: str
    criteria: str
    owner: str
    created_by: str
    created_at: datetime

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not self.title.strip():
            errors.append(("title", "a programme needs a title"))
        if self.period_end < self.period_start:
            errors.append(("period_end", "the period ends on or after it starts"))
        if not self.owner.strip():
            errors.append(("owner", "a programme has an owner"))
        if errors:
            raise RuleViolation.of_fields(errors)


class AuditStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    REPORTED = "reported"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class AuditAction(StrEnum):
    START = "start"
    ADD_FINDING = "add_finding"
    REPORT = "report"  # the audit report: its summary
    CLOSE = "close"  # every corrective action done or cancelled
    CANCEL = "cancel"
    FOLLOW_UP = "follow_up"  # move a corrective action, raise an improvement for a finding


S, A = AuditStatus, AuditAction
# The lifecycle as a table: status -> action -> the status it leads to (None: the status stays).
TRANSITIONS: Final[dict[AuditStatus, dict[AuditAction, AuditStatus | None]]] = {
    S.PLANNED: {A.START: S.IN_PROGRESS, A.CANCEL: S.CANCELLED},
    S.IN_PROGRESS: {A.ADD_FINDING: None, A.FOLLOW_UP: None, A.REPORT: S.REPORTED, A.CANCEL: S.CANCELLED},
    S.REPORTED: {A.FOLLOW_UP: None, A.CLOSE: S.CLOSED},
    S.CLOSED: {},
    S.CANCELLED: {},
}


class FindingKind(StrEnum):
    MAJOR_NONCONFORMITY = "major_nonconformity"
    MINOR_NONCONFORMITY = "minor_nonconformity"
    OBSERVATION = "observation"
    OPPORTUNITY = "opportunity"


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    clause: str
    """The requirement it concerns (a clause of the standard, a process, a policy)."""
    text: str
    corrective_action: ReviewAction | None = None
    improvement_number: str | None = None
    """The improvement register entry raised for it."""

    @property
    def is_nonconformity(self) -> bool:
        return self.kind in (FindingKind.MAJOR_NONCONFORMITY, FindingKind.MINOR_NONCONFORMITY)


_SETTLED = frozenset({"done", "cancelled"})


@dataclass(frozen=True)
class InternalAudit:
    id: UUID
    number: str
    programme_id: UUID
    title: str
    scope: str
    lead_auditor: str
    auditees: tuple[str, ...]
    planned_on: date
    status: AuditStatus
    findings: tuple[Finding, ...]
    summary: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not self.title.strip():
            errors.append(("title", "an audit needs a title"))
        if not self.lead_auditor.strip():
            errors.append(("lead_auditor", "an audit has a lead auditor"))
        if self.lead_auditor in self.auditees:
            errors.append(("auditees", "an auditor does not audit their own work"))
        if errors:
            raise RuleViolation.of_fields(errors)

    def allowed(self) -> list[str]:
        return sorted(str(a) for a in TRANSITIONS[self.status])

    def _move(self, action: AuditAction) -> AuditStatus:
        moves = TRANSITIONS[self.status]
        if action not in moves:
            raise InvalidTransition(str(action), str(self.status), self.allowed())
        return moves[action] or self.status

    def _next(self, now: datetime, **changes: Any) -> InternalAudit:
        return replace(self, **changes, updated_at=now, version=self.version + 1)

    def acted(self, action: AuditAction, now: datetime, *, summary: str = "") -> InternalAudit:
        if action in (A.ADD_FINDING, A.FOLLOW_UP):
            raise RuleViolation(f"'{action}' has its own route", field="action")
        status = self._move(action)
        if action is A.REPORT and not summary.strip():
            raise RuleViolation("the audit report has a summary", field="summary")
        if action is A.CLOSE:
            open_actions = [
                i
                for i, f in enumerate(self.findings)
                if f.corrective_action is not None and f.corrective_action.status not in _SETTLED
            ]
            if open_actions:
                raise InvalidTransition(
                    str(action),
                    str(self.status),
                    self.allowed(),
                    why=f"corrective actions of findings {open_actions} are still open",
                )
        return self._next(now, status=status, summary=summary or self.summary)

    def finding_added(self, finding: Finding, now: datetime) -> InternalAudit:
        self._move(A.ADD_FINDING)
        if finding.is_nonconformity and finding.corrective_action is None:
            raise RuleViolation("a nonconformity has a corrective action", field="corrective_action")
        if len(self.findings) >= 100:
            raise RuleViolation("an audit holds at most 100 findings", field="findings")
        return self._next(now, findings=(*self.findings, finding))

    def _finding(self, index: int) -> Finding:
        if not 0 <= index < len(self.findings):
            raise RuleViolation(f"the audit has {len(self.findings)} findings", field="index")
        return self.findings[index]

    def _with_finding(self, index: int, finding: Finding, now: datetime) -> InternalAudit:
        findings = list(self.findings)
        findings[index] = finding
        return self._next(now, findings=tuple(findings))

    def corrective_action_moved(self, index: int, status: str, now: datetime) -> InternalAudit:
        self._move(A.FOLLOW_UP)
        finding = self._finding(index)
        if finding.corrective_action is None:
            raise RuleViolation("the finding has no corrective action", field="index")
        return self._with_finding(
            index, replace(finding, corrective_action=finding.corrective_action.moved(status, index)), now
        )

    def improvement_linked(self, index: int, number: str, now: datetime) -> InternalAudit:
        """The register entry raised for a finding (one per finding)."""
        self._move(A.FOLLOW_UP)
        finding = self._finding(index)
        if finding.improvement_number is not None:
            raise RuleViolation(f"finding {index} already raised {finding.improvement_number}", field="index")
        return self._with_finding(index, replace(finding, improvement_number=number), now)

    def finding_ref(self, index: int) -> str:
        """How the register names a finding as its source."""
        self._finding(index)
        return f"{self.number}/{index + 1}"


def findings_json(findings: tuple[Finding, ...]) -> list[dict[str, Any]]:
    return [
        {
            "kind": f.kind.value,
            "clause": f.clause,
            "text": f.text,
            "improvement_number": f.improvement_number,
            "corrective_action": None if f.corrective_action is None else action_json(f.corrective_action),
        }
        for f in findings
    ]


def findings_of(values: list[dict[str, Any]]) -> tuple[Finding, ...]:
    return tuple(
        Finding(
            FindingKind(f["kind"]),
            f["clause"],
            f["text"],
            None if f["corrective_action"] is None else action_of(f["corrective_action"]),
            f["improvement_number"],
        )
        for f in values
    )
