"""Scheduled jobs run beside the worker, survive a failing pass and stop with the runtime."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from shared.periodic import JobContext, PeriodicJob, PeriodicRunner
from shared.uow import UnitOfWork

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_jobs_run_every_interval_and_a_failing_pass_does_not_stop_them() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    passes: list[JobContext] = []

    async def flaky(ctx: JobContext) -> None:
        passes.append(ctx)
        if len(passes) == 1:
            raise RuntimeError("first pass fails")

    settings: Any = type("S", (), {"interval": 0.01})()
    runner = PeriodicRunner(
        (PeriodicJob("flaky", flaky, lambda s: s.interval),),
        unit_of_work=lambda: UnitOfWork(engine, None, source="/t"),  # type: ignore[arg-type]
        engine=engine,
        settings=settings,
    )
    runner.start()
    for _ in range(200):
        if len(passes) >= 3:
            break
        await asyncio.sleep(0.01)
    await runner.stop()
    count = len(passes)
    assert count >= 3, "the loop went on after the failing first pass"
    assert all(p.settings is settings for p in passes)
    await asyncio.sleep(0.05)
    assert len(passes) == count, "stop() ended the loop"
    await engine.dispose()


async def test_each_pass_is_timed_by_watcher_and_outcome() -> None:
    from prometheus_client import REGISTRY

    engine = create_async_engine("sqlite+aiosqlite://")
    fail = True

    async def watch(ctx: JobContext) -> None:
        await asyncio.sleep(0.05)
        if fail:
            raise RuntimeError("the pass fails")

    settings: Any = type("S", (), {"interval": 60})()
    runner = PeriodicRunner(
        (PeriodicJob("timed-watcher", watch, lambda s: s.interval),),
        unit_of_work=lambda: UnitOfWork(engine, None, source="/t"),  # type: ignore[arg-type]
        engine=engine,
        settings=settings,
        service="metricstest",
    )

    def timed(outcome: str, part: str = "count") -> float:
        labels = {"service": "metricstest", "watcher": "timed-watcher", "outcome": outcome}
        return REGISTRY.get_sample_value(f"itsm_watcher_pass_duration_seconds_{part}", labels) or 0

    with pytest.raises(RuntimeError):
        await runner.run_once("timed-watcher")
    fail = False
    await runner.run_once("timed-watcher")
    await runner.run_once("timed-watcher")
    assert (timed("error"), timed("ok")) == (1, 2)
    assert timed("ok", "sum") > 0.05  # two passes of 0.05 s each, in seconds (not milliseconds)
    await engine.dispose()
