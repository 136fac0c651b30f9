"""Contracts with suppliers: their terms, the lifecycle as a table, and amendments.

Lifecycle (`TRANSITIONS`): draft -> active -> expiring -> expired, renewed (back to active for a
new term) or terminated; a draft may be cancelled. While draft the terms are edited freely; once
active they change only through a recorded amendment (number, reason, each field's old and new
value, who, when). `mark_expiring` and `expire` are taken by the expiry watcher, not by people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from services.supplier.domain.records import Changes, diff, jsonable
from services.supplier.domain.terms import (
    AMENDABLE_FIELDS,
    DEFAULT_TERMS,
    TERM_FIELDS,
    ChargingBasis,
    ReportingObligation,
    ServiceTarget,
    coerce_term,
)
from shared.errors import InvalidTransition, RuleViolation


class ContractStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    TERMINATED = "terminated"
    CANCELLED = "cancelled"


class ContractAction(StrEnum):
    EDIT = "edit"
    ACTIVATE = "activate"
    CANCEL = "cancel"
    AMEND = "amend"
    RENEW = "renew"
    TERMINATE = "terminate"
    MARK_EXPIRING = "mark_expiring"
    EXPIRE = "expire"


S, A = ContractStatus, ContractAction

TRANSITIONS: Final[Mapping[ContractStatus, Mapping[ContractAction, ContractStatus]]] = {
    S.DRAFT: {A.EDIT: S.DRAFT, A.ACTIVATE: S.ACTIVE, A.CANCEL: S.CANCELLED},
    S.ACTIVE: {
        A.AMEND: S.ACTIVE,
        A.RENEW: S.ACTIVE,
        A.TERMINATE: S.TERMINATED,
        A.MARK_EXPIRING: S.EXPIRING,
        A.EXPIRE: S.EXPIRED,
    },
    S.EXPIRING: {A.AMEND: S.EXPIRING, A.RENEW: S.ACTIVE, A.TERMINATE: S.TERMINATED, A.EXPIRE: S.EXPIRED},
    S.EXPIRED: {},
    S.TERMINATED: {},
    S.CANCELLED: {},
}

SYSTEM_ACTIONS: Final = frozenset({A.MARK_EXPIRING, A.EXPIRE})
"""Taken by the expiry watcher; never offered to a client."""

IN_FORCE: Final = frozenset({S.ACTIVE, S.EXPIRING})
"""States in which a contract covers its CIs and services, and performance counts toward it."""

WATCHER: Final = "expiry-watcher"
"""The actor of the expiry watcher's actions (and of what follows from them)."""


@dataclass(frozen=True)
class ContractRecorded:
    contract_id: UUID
    actor: str


@dataclass(frozen=True)
class ContractMoved:
    """Domain event: an action on the contract; `changes` holds each field's old and new value."""

    contract_id: UUID
    action: ContractAction
    previous: ContractStatus
    actor: str
    changes: Changes
    reason: str = ""
    amendment: int | None = None


@dataclass(frozen=True)
class Amendment:
    contract_id: UUID
    number: int
    reason: str
    changes: Changes
    actor: str
    at: datetime
    review_id: UUID | None = None


@dataclass
class Contract:
    id: UUID
    number: str
    supplier_id: UUID
    title: str
    scope: str
    service_ids: tuple[UUID, ...]
    ci_ids: tuple[UUID, ...]
    starts_on: datetime
    ends_on: datetime
    notice_period_days: int
    renewal_terms: str
    value: Decimal | None
    currency: str | None
    charging_basis: ChargingBasis
    targets: tuple[ServiceTarget, ...]
    availability_pct: float | None
    workload_limits: str
    exceptions: str
    reporting_obligations: tuple[ReportingObligation, ...]
    exit_terms: str
    document_refs: tuple[str, ...]
    owner: str
    status: ContractStatus
    created_at: datetime
    updated_at: datetime
    term: int = 1
    amendments: int = 0
    activated_at: datetime | None = None
    version: int = 1
    pending_events: list[ContractRecorded | ContractMoved] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def draft(
        cls, *, contract_id: UUID, number: str, supplier_id: UUID, terms: Mapping[str, Any], actor: str, now: datetime
    ) -> Contract:
        unknown = sorted(set(terms) - set(TERM_FIELDS))
        if unknown:
            raise RuleViolation.of_fields([(name, "not a term of a contract") for name in unknown])
        values = {**DEFAULT_TERMS, **terms}
        contract = cls(
            id=contract_id,
            number=number,
            supplier_id=supplier_id,
            status=ContractStatus.DRAFT,
            created_at=now,
            updated_at=now,
            **{name: coerce_term(name, values[name]) for name in TERM_FIELDS},
        )
        check_terms(contract)
        contract.pending_events.append(ContractRecorded(contract_id, actor))
        return contract

    # ------------------------------------------------------------------ reading

    @property
    def notice_deadline(self) -> datetime:
        """The last moment to give notice (not to renew, or to renegotiate) before the end."""
        return self.ends_on - timedelta(days=self.notice_period_days)

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE

    def allowed_actions(self) -> list[str]:
        return [a.value for a in TRANSITIONS[self.status] if a not in SYSTEM_ACTIONS]

    def target_for(self, priority: int) -> ServiceTarget | None:
        return next((t for t in self.targets if t.priority == priority), None)

    def snapshot(self, names: Sequence[str] = TERM_FIELDS) -> dict[str, Any]:
        return {name: jsonable(getattr(self, name)) for name in names}

    def due_action(self, now: datetime, warning_days: int) -> ContractAction | None:
        """What the expiry watcher must do now: expire at the end, warn when the notice deadline
        comes within `warning_days`, else nothing."""
        if self.status not in IN_FORCE:
            return None
        if now >= self.ends_on:
            return ContractAction.EXPIRE
        if self.status is ContractStatus.ACTIVE and now >= self.notice_deadline - timedelta(days=warning_days):
            return ContractAction.MARK_EXPIRING
        return None

    # ------------------------------------------------------------------ actions

    def edit(self, values: Mapping[str, Any], *, actor: str, now: datetime) -> Changes:
        """Change the terms of a draft; returns the diff (empty: nothing changed, no new version)."""
        self._require(ContractAction.EDIT)
        changes = self._apply(values, TERM_FIELDS)
        if changes:
            self._moved(ContractAction.EDIT, actor, now, changes)
        return changes

    def amend(
        self, values: Mapping[str, Any], *, reason: str, actor: str, now: datetime, review_id: UUID | None = None
    ) -> Amendment:
        """Change the terms of a contract in force, as amendment number N with its reason."""
        self._require(ContractAction.AMEND)
        if not reason.strip():
            raise RuleViolation("an amendment needs a reason", field="reason")
        not_amendable = sorted(set(values) - set(AMENDABLE_FIELDS))
        if not_amendable:
            raise RuleViolation.of_fields(
                [
                    (name, "the term dates change by renewal" if name in TERM_FIELDS else "not a term of a contract")
                    for name in not_amendable
                ]
            )
        changes = self._apply(values, AMENDABLE_FIELDS)
        if not changes:
            raise RuleViolation("the amendment changes nothing", field="changes")
        self.amendments += 1
        self._moved(ContractAction.AMEND, actor, now, changes, reason=reason, amendment=self.amendments)
        return Amendment(self.id, self.amendments, reason, changes, actor, now, review_id)

    def activate(self, *, actor: str, now: datetime) -> None:
        self._require(ContractAction.ACTIVATE)
        if self.ends_on <= now:
            raise RuleViolation("a contract that has already ended cannot be activated", field="ends_on")
        self.activated_at = now
        self._move(ContractAction.ACTIVATE, actor, now)

    def cancel(self, *, reason: str, actor: str, now: datetime) -> None:
        self._move(ContractAction.CANCEL, actor, now, reason=reason)

    def renew(self, *, ends_on: datetime, reason: str, actor: str, now: datetime) -> None:
        """A new term to `ends_on`; the contract is active again and watched for its new deadline."""
        self._require(ContractAction.RENEW)
        if ends_on <= self.ends_on:
            raise RuleViolation("a renewal must end after the current term", field="ends_on")
        changes: Changes = {"ends_on": (jsonable(self.ends_on), jsonable(ends_on)), "term": (self.term, self.term + 1)}
        self.ends_on = ends_on
        self.term += 1
        self._move(ContractAction.RENEW, actor, now, changes=changes, reason=reason)

    def terminate(self, *, reason: str, actor: str, now: datetime) -> None:
        self._require(ContractAction.TERMINATE)
        if not reason.strip():
            raise RuleViolation("a termination needs a reason", field="reason")
        self._move(ContractAction.TERMINATE, actor, now, reason=reason)

    def mark_expiring(self, *, now: datetime) -> None:
        self._move(ContractAction.MARK_EXPIRING, WATCHER, now)

    def expire(self, *, now: datetime) -> None:
        self._move(ContractAction.EXPIRE, WATCHER, now)

    # ------------------------------------------------------------------ mechanics

    def _require(self, action: ContractAction) -> None:
        if action not in TRANSITIONS[self.status]:
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())

    def _apply(self, values: Mapping[str, Any], allowed: Sequence[str]) -> Changes:
        unknown = sorted(set(values) - set(allowed))
        if unknown:
            raise RuleViolation.of_fields([(name, "not a term that can be changed here") for name in unknown])
        before = self.snapshot()
        candidate = replace(self, pending_events=[])
        for name, value in values.items():
            setattr(candidate, name, coerce_term(name, value))
        check_terms(candidate)
        changes = diff(before, candidate.snapshot())
        for name in changes:
            setattr(self, name, getattr(candidate, name))
        return changes

    def _move(
        self, action: ContractAction, actor: str, now: datetime, *, changes: Changes | None = None, reason: str = ""
    ) -> None:
        self._require(action)
        previous, self.status = self.status, TRANSITIONS[self.status][action]
        status_change: Changes = {"status": (previous.value, self.status.value)} if previous is not self.status else {}
        self._moved(action, actor, now, {**status_change, **(changes or {})}, reason=reason, previous=previous)

    def _moved(
        self,
        action: ContractAction,
        actor: str,
        now: datetime,
        changes: Changes,
        *,
        reason: str = "",
        amendment: int | None = None,
        previous: ContractStatus | None = None,
    ) -> None:
        self.version += 1
        self.updated_at = now
        self.pending_events.append(
            ContractMoved(self.id, action, previous or self.status, actor, changes, reason, amendment)
        )


def check_terms(contract: Contract) -> None:
    """Rules across fields that the request schema cannot see alone."""
    errors: list[tuple[str, str]] = []
    if not contract.title.strip():
        errors.append(("title", "a contract needs a title"))
    if not contract.owner.strip():
        errors.append(("owner", "a contract needs an owner on our side"))
    if contract.ends_on <= contract.starts_on:
        errors.append(("ends_on", "the end must come after the start"))
    if contract.notice_period_days < 0:
        errors.append(("notice_period_days", "cannot be negative"))
    if (contract.value is None) != (contract.currency is None):
        errors.append(("currency", "a value needs its currency, and a currency its value"))
    priorities = [t.priority for t in contract.targets]
    if len(priorities) != len(set(priorities)):
        errors.append(("targets", "one target per priority"))
    for t in contract.targets:
        if (
            t.response_minutes is not None
            and t.resolution_minutes is not None
            and t.response_minutes > t.resolution_minutes
        ):
            errors.append(("targets", f"priority {t.priority}: the response target exceeds the resolution target"))
    if errors:
        raise RuleViolation.of_fields(errors)
