"""The external-party access register (ISO/IEC 20000-1 6.6.2): the access a supplier's people or
systems have to our services and information, what it rests on, who holds it, and its reviews.

Lifecycle (`TRANSITIONS`): requested -> granted -> under review (the access watcher, when the next
review falls due) -> granted again (a review that keeps or reduces the access) or revoked (a review
that revokes it, or a revocation at any time); a grant in force whose expiry has come is expired by
the watcher. A request may also be turned down (revoked before it was ever granted). A review may be
recorded early, while the grant is still simply granted; every review moves the next review date
to `review_interval_days` after it. Access rests on a contract: when the contract ends (terminated,
or expired), every grant on it still open is revoked with it (`end_with_contract`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final
from uuid import UUID

from services.supplier.domain.records import Changes, jsonable
from shared.errors import InvalidTransition, RuleViolation

MAX_HOLDERS: Final = 50
MAX_REVIEW_INTERVAL_DAYS: Final = 730
WATCHER: Final = "access-watcher"


class AccessType(StrEnum):
    READ = "read"
    ADMIN = "admin"
    REMOTE_SUPPORT = "remote_support"
    DATA_PROCESSING = "data_processing"


class Classification(StrEnum):
    """The highest classification of information the access reaches."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"


class GrantStatus(StrEnum):
    REQUESTED = "requested"
    GRANTED = "granted"
    UNDER_REVIEW = "under_review"
    REVOKED = "revoked"
    EXPIRED = "expired"


class GrantAction(StrEnum):
    GRANT = "grant"
    REVIEW = "review"
    REVOKE = "revoke"
    MARK_REVIEW_DUE = "mark_review_due"
    EXPIRE = "expire"


class ReviewOutcome(StrEnum):
    KEEP = "keep"
    REDUCE = "reduce"
    REVOKE = "revoke"


S, A = GrantStatus, GrantAction

TRANSITIONS: Final[Mapping[GrantStatus, Mapping[GrantAction, GrantStatus]]] = {
    S.REQUESTED: {A.GRANT: S.GRANTED, A.REVOKE: S.REVOKED},
    S.GRANTED: {A.REVIEW: S.GRANTED, A.REVOKE: S.REVOKED, A.MARK_REVIEW_DUE: S.UNDER_REVIEW, A.EXPIRE: S.EXPIRED},
    S.UNDER_REVIEW: {A.REVIEW: S.GRANTED, A.REVOKE: S.REVOKED, A.EXPIRE: S.EXPIRED},
    S.REVOKED: {},
    S.EXPIRED: {},
}
"""status -> action -> next status. A review whose outcome is `revoke` ends in revoked instead."""

SYSTEM_ACTIONS: Final = frozenset({A.MARK_REVIEW_DUE, A.EXPIRE})
"""Taken by the access watcher; never offered to a client."""

IN_FORCE: Final = frozenset({S.GRANTED, S.UNDER_REVIEW})
"""States in which the supplier holds the access."""

OPEN: Final = frozenset({S.REQUESTED, S.GRANTED, S.UNDER_REVIEW})
"""States a grant can still be revoked from: asked for or in force."""


@dataclass(frozen=True)
class AccessRequested:
    grant_id: UUID
    actor: str


@dataclass(frozen=True)
class AccessMoved:
    """Domain event: an action on the grant; `changes` holds each field's old and new value."""

    grant_id: UUID
    action: GrantAction
    previous: GrantStatus
    actor: str
    changes: Changes
    reason: str = ""


@dataclass(frozen=True)
class Review:
    """What a reviewer decided about a grant."""

    outcome: ReviewOutcome
    notes: str = ""
    holders: tuple[str, ...] | None = None
    expires_on: datetime | None = None


@dataclass
class AccessGrant:
    id: UUID
    number: str
    supplier_id: UUID
    contract_id: UUID
    legal_basis: str
    service_id: UUID | None
    ci_id: UUID | None
    system: str
    access_type: AccessType
    classification: Classification
    purpose: str
    holders: tuple[str, ...]
    owner: str
    expires_on: datetime
    review_interval_days: int
    status: GrantStatus
    requested_by: str
    created_at: datetime
    updated_at: datetime
    granted_on: datetime | None = None
    granted_by: str | None = None
    next_review_on: datetime | None = None
    last_reviewed_on: datetime | None = None
    last_reviewed_by: str | None = None
    last_review_outcome: ReviewOutcome | None = None
    last_review_notes: str = ""
    ended_reason: str = ""
    version: int = 1
    pending_events: list[AccessRequested | AccessMoved] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def request(
        cls,
        *,
        grant_id: UUID,
        number: str,
        supplier_id: UUID,
        contract_id: UUID,
        legal_basis: str,
        service_id: UUID | None,
        ci_id: UUID | None,
        system: str,
        access_type: AccessType,
        classification: Classification,
        purpose: str,
        holders: Sequence[str],
        owner: str,
        expires_on: datetime,
        review_interval_days: int,
        actor: str,
        now: datetime,
    ) -> AccessGrant:
        grant = cls(
            id=grant_id,
            number=number,
            supplier_id=supplier_id,
            contract_id=contract_id,
            legal_basis=legal_basis.strip(),
            service_id=service_id,
            ci_id=ci_id,
            system=system.strip(),
            access_type=access_type,
            classification=classification,
            purpose=purpose.strip(),
            holders=_holders(holders),
            owner=owner.strip(),
            expires_on=expires_on,
            review_interval_days=review_interval_days,
            status=GrantStatus.REQUESTED,
            requested_by=actor,
            created_at=now,
            updated_at=now,
        )
        check_grant(grant, now)
        grant.pending_events.append(AccessRequested(grant_id, actor))
        return grant

    # ------------------------------------------------------------------ reading

    @property
    def in_force(self) -> bool:
        return self.status in IN_FORCE

    def allowed_actions(self) -> list[str]:
        return [a.value for a in TRANSITIONS[self.status] if a not in SYSTEM_ACTIONS]

    def due_action(self, now: datetime) -> GrantAction | None:
        """What the access watcher must do now: expire a grant in force at its expiry, put a granted
        one under review when its next review has come, else nothing."""
        if self.status not in IN_FORCE:
            return None
        if now >= self.expires_on:
            return GrantAction.EXPIRE
        if self.status is GrantStatus.GRANTED and self.next_review_on is not None and now >= self.next_review_on:
            return GrantAction.MARK_REVIEW_DUE
        return None

    # ------------------------------------------------------------------ actions

    def grant(self, *, actor: str, now: datetime, note: str = "") -> None:
        self._require(GrantAction.GRANT)
        if self.expires_on <= now:
            raise RuleViolation("the access would already have expired", field="expires_on")
        next_review = self._next_review(now)
        changes: Changes = {
            "granted_on": (None, jsonable(now)),
            "granted_by": (None, actor),
            "next_review_on": (None, jsonable(next_review)),
        }
        self.granted_on, self.granted_by, self.next_review_on = now, actor, next_review
        self._move(GrantAction.GRANT, actor, now, changes, reason=note)

    def review(self, review: Review, *, actor: str, now: datetime) -> None:
        """Record a review by `actor`: keep (as is), reduce (fewer holders or an earlier expiry) or
        revoke. Keep and reduce move the next review date on by the interval."""
        self._require(GrantAction.REVIEW)
        notes = review.notes.strip()
        if review.outcome is not ReviewOutcome.KEEP and not notes:
            raise RuleViolation(f"a review that decides to {review.outcome.value} says why", field="notes")
        changes: Changes = {
            "last_reviewed_on": (jsonable(self.last_reviewed_on), jsonable(now)),
            "last_reviewed_by": (self.last_reviewed_by, actor),
            "last_review_outcome": (jsonable(self.last_review_outcome), review.outcome.value),
        }
        if review.outcome is ReviewOutcome.REDUCE:
            changes.update(self._reduce(review, now))
        elif review.holders is not None or review.expires_on is not None:
            raise RuleViolation("only a review that reduces the access changes holders or expiry", field="outcome")
        self.last_reviewed_on, self.last_reviewed_by = now, actor
        self.last_review_outcome, self.last_review_notes = review.outcome, notes
        if review.outcome is ReviewOutcome.REVOKE:
            self.ended_reason = notes
            self._move(GrantAction.REVIEW, actor, now, changes, reason=notes, target=GrantStatus.REVOKED)
            return
        next_review = self._next_review(now)
        changes["next_review_on"] = (jsonable(self.next_review_on), jsonable(next_review))
        self.next_review_on = next_review
        self._move(GrantAction.REVIEW, actor, now, changes, reason=notes)

    def revoke(self, *, reason: str, actor: str, now: datetime) -> None:
        self._require(GrantAction.REVOKE)
        if not reason.strip():
            raise RuleViolation("a revocation needs a reason", field="reason")
        self.ended_reason = reason.strip()
        self._move(GrantAction.REVOKE, actor, now, {}, reason=self.ended_reason)

    def end_with_contract(self, contract_number: str, how: str, *, actor: str, now: datetime) -> None:
        """Revoke the grant because the contract it rests on ended (`how`: terminated, expired),
        by whoever ended the contract; the reason names the contract."""
        self.revoke(reason=f"contract {contract_number} {how}", actor=actor, now=now)

    def mark_review_due(self, *, now: datetime) -> None:
        self._move(GrantAction.MARK_REVIEW_DUE, WATCHER, now, {})

    def expire(self, *, now: datetime) -> None:
        self._move(GrantAction.EXPIRE, WATCHER, now, {})

    # ------------------------------------------------------------------ mechanics

    def _next_review(self, now: datetime) -> datetime:
        return min(now + timedelta(days=self.review_interval_days), self.expires_on)

    def _reduce(self, review: Review, now: datetime) -> Changes:
        """Check a reduction, then apply it (nothing changes when any part of it is refused)."""
        changes: Changes = {}
        holders, expires_on = self.holders, self.expires_on
        if review.holders is not None:
            holders = _holders(review.holders, name="holders")
            if not set(holders) < set(self.holders):
                raise RuleViolation("a reduction keeps some of the current holders and drops others", field="holders")
            changes["holders"] = (list(self.holders), list(holders))
        if review.expires_on is not None:
            if not now < review.expires_on < self.expires_on:
                raise RuleViolation("a reduction brings the expiry earlier, but not into the past", field="expires_on")
            expires_on = review.expires_on
            changes["expires_on"] = (jsonable(self.expires_on), jsonable(expires_on))
        if not changes:
            raise RuleViolation("a reduction names fewer holders or an earlier expiry", field="outcome")
        self.holders, self.expires_on = holders, expires_on
        return changes

    def _require(self, action: GrantAction) -> None:
        if action not in TRANSITIONS[self.status]:
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())

    def _move(
        self,
        action: GrantAction,
        actor: str,
        now: datetime,
        changes: Changes,
        *,
        reason: str = "",
        target: GrantStatus | None = None,
    ) -> None:
        self._require(action)
        previous, self.status = self.status, target or TRANSITIONS[self.status][action]
        if previous is not self.status:
            changes = {"status": (previous.value, self.status.value), **changes}
        self.version += 1
        self.updated_at = now
        self.pending_events.append(AccessMoved(self.id, action, previous, actor, changes, reason))


def _holders(values: Sequence[str], *, name: str = "holders") -> tuple[str, ...]:
    holders = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    if not holders:
        raise RuleViolation("name at least one person or system that holds the access", field=name)
    if len(holders) > MAX_HOLDERS:
        raise RuleViolation(f"at most {MAX_HOLDERS} holders", field=name)
    return holders


def check_grant(grant: AccessGrant, now: datetime) -> None:
    """Rules across fields that the request schema cannot see alone."""
    errors: list[tuple[str, str]] = []
    if grant.service_id is None and grant.ci_id is None and not grant.system:
        errors.append(("system", "say what is accessed: a service, a CI or a named system"))
    if not grant.owner:
        errors.append(("owner", "an access grant needs an owner on our side"))
    if not grant.purpose:
        errors.append(("purpose", "say why the supplier needs the access"))
    if grant.expires_on <= now:
        errors.append(("expires_on", "the expiry must be in the future"))
    if not 1 <= grant.review_interval_days <= MAX_REVIEW_INTERVAL_DAYS:
        errors.append(("review_interval_days", f"between 1 and {MAX_REVIEW_INTERVAL_DAYS} days"))
    if errors:
        raise RuleViolation.of_fields(errors)
