"""Deliveries as pure rules: their states, when a failed one is tried again (doubling delays over
a bounded period, then the subscription gives up), what orders them, and what of an answer is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from shared.backoff import doubling_delay


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    """Not delivered yet: due at `next_attempt_at`, or held behind an earlier one of its subject."""
    DELIVERED = "delivered"
    FAILED = "failed"
    """Given up: the retry period ran out (the subscription was disabled with it)."""


@dataclass(frozen=True)
class RetryPolicy:
    first_delay: timedelta
    max_delay: timedelta
    period: timedelta
    """How long after its first attempt a delivery is still retried."""

    def next_attempt(self, attempts: int, first_attempt_at: datetime, now: datetime) -> datetime | None:
        """When to try again after `attempts` failed attempts (the delay doubles from
        `first_delay` up to `max_delay`), or None when that would be past the retry period."""
        at = now + doubling_delay(self.first_delay, self.max_delay, attempts)
        if at > first_attempt_at + self.period:
            return None
        return at

    def after_attempt(
        self, attempts_before: int, first_attempt_at: datetime | None, now: datetime, error: str | None
    ) -> Attempted:
        """What one more attempt (failed when `error` is set) makes of a message's bookkeeping."""
        attempts = attempts_before + 1
        first = first_attempt_at or now
        retry_at = None if error is None else self.next_attempt(attempts, first, now)
        return Attempted(attempts, first, now, error, retry_at)


@dataclass(frozen=True)
class Attempted:
    """A delivery or a mail after an attempt: its counts, and when it is tried again (None when
    it succeeded, or failed for the last time)."""

    attempts: int
    first_attempt_at: datetime
    last_attempt_at: datetime
    error: str | None
    retry_at: datetime | None

    @property
    def succeeded(self) -> bool:
        return self.error is None

    @property
    def gave_up(self) -> bool:
        return self.error is not None and self.retry_at is None

    def values(self) -> dict[str, object]:
        """The columns every attempt sets (a message's table adds its own status on top)."""
        return {
            "attempts": self.attempts,
            "first_attempt_at": self.first_attempt_at,
            "last_attempt_at": self.last_attempt_at,
            "last_error": self.error,
            "next_attempt_at": self.retry_at,
        }


def ordering_key(subject: str | None, event_id: UUID) -> str:
    """What orders deliveries: the events of one subject go out one at a time, in order; an event
    without a subject is ordered with nothing (its id is its own key)."""
    return f"s:{subject}" if subject else f"e:{event_id}"


def is_success(status_code: int) -> bool:
    return 200 <= status_code < 300


def excerpt(text: str, limit: int) -> str:
    """At most `limit` characters of a receiver's answer, marked when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"


def disabled_reason(attempts: int, last_error: str) -> str:
    return f"delivery failed {attempts} times over the retry period; last: {last_error}"[:500]
