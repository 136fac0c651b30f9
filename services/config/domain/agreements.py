"""Service level agreements and operational level agreements (ISO/IEC 20000-1 6.1, 8.3.3) as pure
rules. No I/O.

An agreement is a versioned document: each version is a record of its own under the agreement's
number (`SLA0000001` v1, v2, ...). A version is drafted, then agreed; an agreed version is
immutable; a new version is drafted from it and, once agreed, supersedes it. Agreeing a version,
and retiring an agreed one, is a change to a controlled document: it needs an approved change
whose window is open and that names every catalogue service the agreement covers (config's
change control, `ChangeWindow.authorises`, the same rule as a controlled CI's edit).

An SLA is agreed with a customer; an OLA with an internal group. Their targets have the same
shape: per priority, a response and a resolution time in minutes of the named business-hours
calendar, and an availability target.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.config.domain.items import ChangeWindow
from shared.errors import Conflict, InvalidTransition, RuleViolation

NUMBER_SEQUENCE = "agreement"


class AgreementKind(StrEnum):
    SLA = "sla"
    """Agreed with a customer."""
    OLA = "ola"
    """Agreed with an internal group that supports the services."""


PREFIX = {AgreementKind.SLA: "SLA", AgreementKind.OLA: "OLA"}


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    AGREED = "agreed"
    SUPERSEDED = "superseded"
    RETIRED = "retired"


TRANSITIONS: dict[tuple[AgreementStatus, str], AgreementStatus] = {
    (AgreementStatus.DRAFT, "agree"): AgreementStatus.AGREED,
    (AgreementStatus.DRAFT, "retire"): AgreementStatus.RETIRED,
    (AgreementStatus.AGREED, "supersede"): AgreementStatus.SUPERSEDED,
    (AgreementStatus.AGREED, "retire"): AgreementStatus.RETIRED,
}
"""The lifecycle: (status, action) -> status. A draft withdrawn is retired too."""

CHANGE_CONTROLLED: frozenset[tuple[AgreementStatus, str]] = frozenset(
    {(AgreementStatus.DRAFT, "agree"), (AgreementStatus.AGREED, "retire")}
)
"""The moves that change what is agreed, and so need an approved change."""

EDITABLE = frozenset({"service_ids", "targets", "availability_pct", "calendar", "exclusions", "review_date", "title"})


def allowed_actions(status: AgreementStatus) -> list[str]:
    return [action for (state, action) in TRANSITIONS if state is status and action != "supersede"]


@dataclass(frozen=True)
class PriorityTarget:
    priority: int
    response_minutes: int
    resolution_minutes: int


@dataclass(frozen=True)
class Agreement:
    id: UUID
    number: str
    document_version: int
    kind: AgreementKind
    title: str
    customer_id: UUID | None
    group: str | None
    service_ids: tuple[UUID, ...]
    targets: tuple[PriorityTarget, ...]
    availability_pct: float
    calendar: str
    review_date: date
    created_at: datetime
    created_by: str
    updated_at: datetime
    exclusions: tuple[str, ...] = ()
    status: AgreementStatus = AgreementStatus.DRAFT
    change_number: str | None = None
    agreed_at: datetime | None = None
    agreed_by: str | None = None
    ended_at: datetime | None = None
    superseded_by: UUID | None = None
    version: int = 1
    """The record's version (its ETag), moved by every edit of a draft and every move."""

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if self.kind is AgreementKind.SLA and (self.customer_id is None or self.group is not None):
            errors.append(("customer_id", "a service level agreement is made with a customer (and no group)"))
        if self.kind is AgreementKind.OLA and (not (self.group or "").strip() or self.customer_id is not None):
            errors.append(("group", "an operational level agreement is made with an internal group (and no customer)"))
        if not self.title.strip():
            errors.append(("title", "an agreement needs a title"))
        if not self.service_ids:
            errors.append(("service_ids", "an agreement covers at least one catalogue service"))
        elif len(set(self.service_ids)) != len(self.service_ids):
            errors.append(("service_ids", "a service is listed once"))
        errors.extend(_target_errors(self.targets))
        if not 0 < self.availability_pct <= 100:
            errors.append(("availability_pct", "an availability target is a percentage above 0, at most 100"))
        if not self.calendar.strip():
            errors.append(("calendar", "name the business-hours calendar the targets count in"))
        if errors:
            raise RuleViolation.of_fields(errors)

    def target_for(self, priority: int) -> PriorityTarget | None:
        return next((t for t in self.targets if t.priority == priority), None)

    # ------------------------------------------------------------------------------ edits and moves

    def revised(self, values: dict[str, Any], now: datetime) -> Agreement:
        """A draft edited; an agreed (or ended) version is immutable: a new version changes it."""
        if self.status is not AgreementStatus.DRAFT:
            raise Conflict(
                f"{self.number} v{self.document_version} is {self.status}: it is immutable; draft a new version"
            )
        unknown = sorted(set(values) - EDITABLE)
        if unknown:
            raise RuleViolation(f"not a field an agreement edit sets: {', '.join(unknown)}", field=unknown[0])
        return replace(self, **values, updated_at=now, version=self.version + 1)

    def agree(self, change: ChangeWindow | None, change_number: str | None, now: datetime, actor: str) -> Agreement:
        status = self._move("agree")
        require_change(self, change, change_number, now)
        return replace(
            self,
            status=status,
            change_number=change_number,
            agreed_at=now,
            agreed_by=actor,
            updated_at=now,
            version=self.version + 1,
        )

    def retire(self, change: ChangeWindow | None, change_number: str | None, now: datetime) -> Agreement:
        status = self._move("retire")
        if (self.status, "retire") in CHANGE_CONTROLLED:
            require_change(self, change, change_number, now)
        return replace(self, status=status, ended_at=now, updated_at=now, version=self.version + 1)

    def superseded(self, by: UUID, now: datetime) -> Agreement:
        status = self._move("supersede")
        return replace(self, status=status, superseded_by=by, ended_at=now, updated_at=now, version=self.version + 1)

    def next_version(self, new_id: UUID, now: datetime, actor: str) -> Agreement:
        """A new draft version with this version's terms (the one to change and agree)."""
        if self.status is not AgreementStatus.AGREED:
            what = f"{self.number} v{self.document_version}"
            raise Conflict(f"a new version is drafted from the agreed version; {what} is {self.status}")
        return replace(
            self,
            id=new_id,
            document_version=self.document_version + 1,
            status=AgreementStatus.DRAFT,
            change_number=None,
            agreed_at=None,
            agreed_by=None,
            ended_at=None,
            superseded_by=None,
            created_at=now,
            created_by=actor,
            updated_at=now,
            version=1,
        )

    def _move(self, action: str) -> AgreementStatus:
        target = TRANSITIONS.get((self.status, action))
        if target is None:
            raise InvalidTransition(action, self.status.value, allowed_actions(self.status))
        return target


def require_change(agreement: Agreement, change: ChangeWindow | None, change_number: str | None, now: datetime) -> None:
    """Agreeing (or retiring an agreed) version needs an approved change, open now, that names
    every service the agreement covers among its affected CIs."""
    what = f"{agreement.number} v{agreement.document_version}"
    if change_number is None:
        raise RuleViolation(
            f"changing what {what} agrees needs an approved change: name it in change_number", field="change_number"
        )
    if change is None:
        raise RuleViolation(f"change {change_number} is not known to the CMDB", field="change_number")
    for service_id in agreement.service_ids:
        if (reason := change.authorises(service_id, now)) is not None:
            raise RuleViolation(f"{reason} (service {service_id} of {what})", field="change_number")


def _target_errors(targets: tuple[PriorityTarget, ...]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if not targets:
        return [("targets", "an agreement has a target for at least one priority")]
    seen: set[int] = set()
    for index, target in enumerate(targets):
        where = f"targets.{index}"
        if not 1 <= target.priority <= 5:
            errors.append((f"{where}.priority", "priorities are 1 (critical) to 5 (planning)"))
        if target.priority in seen:
            errors.append((f"{where}.priority", f"priority {target.priority} has one target"))
        seen.add(target.priority)
        if target.response_minutes < 1:
            errors.append((f"{where}.response_minutes", "a response target is at least one minute"))
        if target.resolution_minutes < 1:
            errors.append((f"{where}.resolution_minutes", "a resolution target is at least one minute"))
        elif target.response_minutes > target.resolution_minutes:
            errors.append((f"{where}.response_minutes", "the response target is not longer than the resolution target"))
    return errors
