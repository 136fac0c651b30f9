"""A write rate limit per subject: a token bucket for each caller, in this process.

Every service mounts it (shared.app): a request with a method other than GET, HEAD or OPTIONS
takes one token from its subject's bucket; a bucket holds at most `burst` tokens and fills at
`rate_per_minute`. An empty bucket answers 429 problem details with `Retry-After` (whole
seconds until the next token), before the route runs. A request whose token does not verify is
not counted here (the route answers its 401). The buckets live in the process: N replicas allow
N times the rate; a shared store (Redis, the gateway) is the next step when that matters.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from shared.auth import current_principal
from shared.errors import DomainError, Unauthenticated
from shared.http import PROBLEM_CONTENT_TYPE, problem_response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RateLimited(DomainError):
    """The caller's bucket is empty; `retry_after` is whole seconds until the next write is allowed."""

    title = "Too many requests"
    slug = "rate-limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after: int | None = retry_after


class TooManyStreams(RateLimited):
    """The caller holds its share of a process's long-lived streams; one must close first (no `Retry-After`)."""

    title = "Too many open streams"
    slug = "too-many-streams"

    def __init__(self, detail: str, *, limit: int) -> None:
        DomainError.__init__(self, detail, limit=limit)
        self.retry_after = None


class RateLimiter:
    """Token buckets by subject; `take` answers None (go on) or the seconds until a token is there."""

    MAX_SUBJECTS = 10_000  # the least recently seen subject is forgotten first (a full bucket again)

    def __init__(self, rate_per_minute: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate_per_minute = rate_per_minute
        self.burst = max(1, burst)
        self._per_second = rate_per_minute / 60
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, subject: str) -> float | None:
        now = self._clock()
        tokens, then = self._buckets.pop(subject, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self._per_second)
        waiting = None
        if tokens >= 1:
            tokens -= 1
        else:
            waiting = (1 - tokens) / self._per_second
        self._buckets[subject] = (tokens, now)
        if len(self._buckets) > self.MAX_SUBJECTS:
            self._buckets.popitem(last=False)
        return waiting


def document_response() -> dict[str, Any]:
    """The 429 every write may answer, for the OpenAPI document (shared.app adds it to each write)."""
    return {
        "description": "Too many requests: the caller's write rate limit (WRITE_RATE_PER_MINUTE, bursts of"
        " WRITE_BURST, per process) is spent; applies when the limit is configured (off by default)",
        "headers": {
            "Retry-After": {
                "description": "Whole seconds until the next write is allowed",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}},
    }


async def write_rate_limit(request: Request) -> None:
    """The app-wide dependency: counts writes by the token's subject."""
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is None or request.method in SAFE_METHODS:
        return
    try:
        principal = await current_principal(request)
    except Unauthenticated:
        return
    waiting = limiter.take(principal.subject)
    if waiting is not None:
        retry_after = max(1, math.ceil(waiting))
        raise RateLimited(
            f"more than {limiter.rate_per_minute:g} writes a minute (bursts of {limiter.burst}) from"
            f" {principal.subject}; retry after {retry_after} s",
            retry_after=retry_after,
        )


async def on_rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    response = problem_response(429, exc.title, exc.detail, slug=exc.slug, instance=request.url.path, **exc.extensions)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response
