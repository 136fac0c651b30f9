"""When `itsm up` starts a service's process again, and when it gives up (no processes here)."""

from __future__ import annotations

import signal

from itsm.restarts import (
    FIRST_DELAY_S,
    MAX_DELAY_S,
    STABLE_AFTER_S,
    GiveUp,
    Restart,
    ServiceLife,
    after_exit,
    describe_exit,
)


def test_a_service_that_dies_after_it_was_ready_is_started_again_after_the_first_delay() -> None:
    life = ServiceLife()
    assert after_exit(life, was_ready=True, ran_for_s=STABLE_AFTER_S + 1) == Restart(FIRST_DELAY_S)
    assert life.restarts == 1


def test_exits_in_a_row_soon_after_starting_double_the_delay_up_to_the_bound() -> None:
    life = ServiceLife()
    delays = [after_exit(life, was_ready=True, ran_for_s=1.0) for _ in range(10)]
    assert [d.delay_s for d in delays if isinstance(d, Restart)][:4] == [0.5, 1.0, 2.0, 4.0]
    assert delays[-1] == Restart(MAX_DELAY_S)
    assert life.restarts == 10


def test_a_process_that_ran_for_a_while_starts_the_delays_over() -> None:
    life = ServiceLife()
    for _ in range(4):
        after_exit(life, was_ready=True, ran_for_s=1.0)
    assert after_exit(life, was_ready=True, ran_for_s=STABLE_AFTER_S) == Restart(FIRST_DELAY_S)


def test_the_suite_gives_up_on_a_service_that_fails_to_start_n_times_in_a_row() -> None:
    life = ServiceLife()
    outcomes = [after_exit(life, was_ready=False, ran_for_s=1.0, max_start_failures=3) for _ in range(3)]
    assert all(isinstance(o, Restart) for o in outcomes[:2])
    assert outcomes[2] == GiveUp("failed to start 3 times in a row")
    assert life.restarts == 2


def test_a_start_that_reached_readiness_resets_the_failures_in_a_row() -> None:
    life = ServiceLife()
    after_exit(life, was_ready=False, ran_for_s=1.0, max_start_failures=2)
    after_exit(life, was_ready=True, ran_for_s=1.0, max_start_failures=2)
    assert isinstance(after_exit(life, was_ready=False, ran_for_s=1.0, max_start_failures=2), Restart)


def test_an_exit_is_described_by_its_status_or_its_signal() -> None:
    assert describe_exit(3) == "status 3"
    assert describe_exit(-signal.SIGKILL) == "killed by SIGKILL"
    assert describe_exit(-200) == "killed by signal 200"
