"""When `itsm up` starts a service again after its process exits: the rule, without the processes.

A service that exits is started again after a delay that doubles with each exit in a row that
came soon after its start (from `FIRST_DELAY_S` up to `MAX_DELAY_S`); one that had run for
`STABLE_AFTER_S` starts again at the first delay. A service that exits before it ever answered
`/readyz` failed to start; after `max_start_failures` of those in a row the suite stops, since
starting it again would not help (a port in use, a database it cannot open, a bad setting).
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 30.0
STABLE_AFTER_S = 60.0
DEFAULT_MAX_START_FAILURES = 5


@dataclass
class ServiceLife:
    """What the supervisor remembers of one service across its processes."""

    restarts: int = 0
    """Processes started after the first."""
    start_failures: int = 0
    """Exits in a row before the service was ready."""
    quick_exits: int = 0
    """Exits in a row within `STABLE_AFTER_S` of a start: the exponent of the delay."""


@dataclass(frozen=True)
class Restart:
    delay_s: float


@dataclass(frozen=True)
class GiveUp:
    reason: str


def after_exit(
    life: ServiceLife, *, was_ready: bool, ran_for_s: float, max_start_failures: int = DEFAULT_MAX_START_FAILURES
) -> Restart | GiveUp:
    """Record one exit of the service's process in `life` and say what comes next."""
    life.start_failures = 0 if was_ready else life.start_failures + 1
    if life.start_failures >= max_start_failures:
        return GiveUp(f"failed to start {life.start_failures} times in a row")
    life.quick_exits = life.quick_exits + 1 if ran_for_s < STABLE_AFTER_S else 1
    life.restarts += 1
    return Restart(min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (life.quick_exits - 1)))


def describe_exit(returncode: int) -> str:
    """`status 3`, or `killed by SIGKILL` for a process a signal ended."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"status {returncode}"
