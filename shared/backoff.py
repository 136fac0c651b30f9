"""Doubling delays between retries, capped: pure arithmetic that never overflows."""

from __future__ import annotations

from datetime import timedelta


def doubling_delay(first: timedelta, ceiling: timedelta, attempts: int) -> timedelta:
    """The delay after `attempts` failed attempts: `first`, doubled for each attempt after the
    first, never more than `ceiling`. Doubled step by step up to the ceiling, not as
    `first * 2 ** (attempts - 1)`: that product overflows `timedelta` (past 999,999,999 days) after
    some fifty attempts of a short first delay, and a delivery retried that often must still get
    its next time."""
    delay = first
    for _ in range(max(attempts - 1, 0)):
        if delay >= ceiling:
            break
        delay *= 2
    return min(delay, ceiling)
