"""The token bucket behind the write rate limit, on a fake clock."""

from __future__ import annotations

import pytest

from services.incident.settings import IncidentSettings
from shared.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_subject_may_burst_then_waits_for_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(60, 3, clock=clock)  # one a second, three at once
    assert [limiter.take("a") for _ in range(3)] == [None, None, None]
    assert limiter.take("a") == pytest.approx(1.0)
    clock.now += 0.5
    assert limiter.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("a") is None
    assert limiter.take("b") is None  # each subject has its own bucket


def test_an_idle_bucket_fills_up_to_the_burst_only() -> None:
    clock = Clock()
    limiter = RateLimiter(60, 2, clock=clock)
    limiter.take("a")
    clock.now += 3600
    assert [limiter.take("a") for _ in range(3)][2] is not None


def test_the_limit_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert IncidentSettings().write_rate_per_minute == 0
    monkeypatch.setenv("ITSM_WRITE_RATE_PER_MINUTE", "120")
    monkeypatch.setenv("ITSM_WRITE_BURST", "20")
    settings = IncidentSettings()
    assert (settings.write_rate_per_minute, settings.write_burst) == (120, 20)
