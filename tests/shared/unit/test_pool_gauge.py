"""The pool usage gauge is read from the pools when collected (no counter moved per checkout)."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.metrics import CallbackOptions

from shared.metrics import _pool_usage, watch_pool


@dataclass(eq=False)
class Pool:
    idle: int
    used: int

    def checkedin(self) -> int:
        return self.idle

    def checkedout(self) -> int:
        return self.used


class NullPool:  # keeps no connections: nothing to report
    pass


def _readings(name: str) -> dict[str, int | float]:
    return {o.attributes["state"]: o.value for o in _pool_usage(CallbackOptions()) if o.attributes["pool.name"] == name}  # type: ignore[index]


def test_the_gauge_reads_each_pool_as_it_is_now_and_sums_pools_of_one_name() -> None:
    first, second = Pool(idle=3, used=1), Pool(idle=1, used=2)
    watch_pool(first, "gauge-test")
    watch_pool(second, "gauge-test")
    watch_pool(NullPool(), "gauge-test-null")
    assert _readings("gauge-test") == {"idle": 4, "used": 3}
    first.used, first.idle = 4, 0  # checked out since: the next collection sees it
    assert _readings("gauge-test") == {"idle": 1, "used": 6}
    assert _readings("gauge-test-null") == {}


def test_a_pool_gone_is_no_longer_reported() -> None:
    watch_pool(Pool(idle=2, used=0), "gauge-test-gone")
    assert _readings("gauge-test-gone") == {}  # the only reference was the call's: collected
