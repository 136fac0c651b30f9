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
