"""The time a use case records: now, or, for an import, when the thing really happened.

Use cases take their time from `clock.now()`. Normally that is the wall clock. An administrator
loading history from another tool (or `itsm demo` loading a few weeks of realistic data) sends
`X-ITSM-Occurred-At: <ISO 8601 with offset>` and the request's records and events carry that
time instead. The header is checked at the edge (`shared.app`): admin role only, an explicit
offset, not in the future, at most `backdate_max_days` back (0 turns it off); the request is
logged. Events keep the CloudEvents meaning of `time` (when the occurrence happened); a consumer
that stores events, such as reporting, also records when it received them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

OCCURRED_AT_HEADER = "X-ITSM-Occurred-At"

_occurred_at: ContextVar[datetime | None] = ContextVar("itsm_occurred_at", default=None)


def now() -> datetime:
    """The time to record for what the current request does."""
    return _occurred_at.get() or datetime.now(UTC)


def is_backdated() -> bool:
    return _occurred_at.get() is not None


@contextmanager
def occurring_at(moment: datetime) -> Iterator[None]:
    """Within this block, `now()` is `moment` (timezone-aware)."""
    if moment.tzinfo is None:
        raise ValueError("an occurrence time needs a timezone")
    token = _occurred_at.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _occurred_at.reset(token)
