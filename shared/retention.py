"""Records control (ISO/IEC 20000-1 4.3.3), the pure rules: how long a record type is kept
(a retention policy), what stops a record being disposed of (a legal hold), and the decision for
one record. No I/O: `shared.retention_store` reads and writes these, the disposal job asks
`decide` for every record it would dispose of.

- A **retention policy** keeps the records of one type for `retain_days` days counted from one
  of the record's timestamps (`counted_from`, e.g. `closed_at`); a record whose timestamp is not
  set yet (an incident not closed) is never due. Every change of a policy is a new `version`, and
  the disposal log names the version a record was disposed of under.
- A **legal hold** keeps one record (`record_id`) or every record of a type (no `record_id`),
  from when it is placed until it is released or its `until` has passed; it names who placed it
  and why.
- A record with no policy for its type is kept: nothing is disposed of unless a policy says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from shared.errors import InvalidTransition, RuleViolation

MAX_RETAIN_DAYS = 36_500
"""A hundred years: longer is "keep for ever", which is having no policy."""
MAX_REASON = 2_000


class Decision(StrEnum):
    DISPOSE = "dispose"
    HELD = "held"
    """Kept: a legal hold covers it (whether or not it is due)."""
    NOT_DUE = "not_due"
    """Kept: its retention period has not run out, or the timestamp it counts from is not set."""
    NO_POLICY = "no_policy"
    """Kept: no retention policy names its type."""


@dataclass(frozen=True)
class RetentionPolicy:
    record_type: str
    retain_days: int
    counted_from: str
    version: int
    updated_by: str
    updated_at: datetime

    def due_at(self, timestamp: datetime | None) -> datetime | None:
        """When a record whose `counted_from` is `timestamp` falls due (None: never, yet)."""
        return None if timestamp is None else timestamp + timedelta(days=self.retain_days)

    def cutoff(self, now: datetime) -> datetime:
        """A record whose timestamp is before this is past its retention period at `now`."""
        return now - timedelta(days=self.retain_days)


def define_policy(
    record_type: str,
    retain_days: int,
    counted_from: str,
    timestamps: Sequence[str],
    *,
    by: str,
    now: datetime,
    current: RetentionPolicy | None,
) -> RetentionPolicy:
    """A new policy for `record_type`, or the next version of `current`. `timestamps` are the
    record's columns a period may count from."""
    if not 1 <= retain_days <= MAX_RETAIN_DAYS:
        raise RuleViolation(f"retain_days must be between 1 and {MAX_RETAIN_DAYS}", field="retain_days")
    if counted_from not in timestamps:
        raise RuleViolation(f"a {record_type} is counted from one of: {', '.join(timestamps)}", field="counted_from")
    version = current.version + 1 if current else 1
    return RetentionPolicy(record_type, retain_days, counted_from, version, by, now)


@dataclass(frozen=True)
class LegalHold:
    id: UUID
    record_type: str
    record_id: UUID | None
    """None: the hold covers every record of the type."""
    reason: str
    placed_by: str
    placed_at: datetime
    until: datetime | None = None
    released_by: str | None = None
    released_at: datetime | None = None
    release_reason: str | None = None

    def active(self, now: datetime) -> bool:
        return self.released_at is None and (self.until is None or now < self.until)

    def covers(self, record_type: str, record_id: UUID, now: datetime) -> bool:
        return (
            self.active(now)
            and self.record_type == record_type
            and (self.record_id is None or self.record_id == record_id)
        )


def place_hold(
    hold_id: UUID,
    record_type: str,
    record_id: UUID | None,
    reason: str,
    until: datetime | None,
    *,
    by: str,
    now: datetime,
) -> LegalHold:
    if not reason.strip():
        raise RuleViolation("a legal hold says why it is placed", field="reason")
    if until is not None and until <= now:
        raise RuleViolation("a legal hold's `until` is in the future", field="until")
    if until is not None and until - now > timedelta(days=MAX_RETAIN_DAYS):
        raise RuleViolation(
            "a legal hold's `until` is within a hundred years (leave it out: until released)", field="until"
        )
    return LegalHold(hold_id, record_type, record_id, reason.strip(), by, now, until)


def release_hold(hold: LegalHold, reason: str, *, by: str, now: datetime) -> LegalHold:
    if not hold.active(now):
        raise InvalidTransition("release", "released" if hold.released_at else "expired", [])
    return replace(hold, released_by=by, released_at=now, release_reason=reason.strip() or None)


def decide(
    record_type: str,
    record_id: UUID,
    timestamp: datetime | None,
    policy: RetentionPolicy | None,
    holds: Iterable[LegalHold],
    now: datetime,
) -> Decision:
    """Dispose of this record now, or keep it (and why). A hold wins over everything."""
    if any(h.covers(record_type, record_id, now) for h in holds):
        return Decision.HELD
    if policy is None:
        return Decision.NO_POLICY
    due = policy.due_at(timestamp)
    if due is None or now < due:
        return Decision.NOT_DUE
    return Decision.DISPOSE
