"""Scheduled jobs of a service's worker (watchers): run every N seconds, safe with many replicas.

A service lists its jobs in its `ServiceSpec(periodic=...)`; the runtime runs them beside the
outbox relay and the consumer whenever it runs the worker, and stops them on shutdown:

    async def watch_sla(ctx: JobContext) -> None:
        async with ctx.unit_of_work() as uow: ...

    SPEC = ServiceSpec(..., periodic=(PeriodicJob("sla-watcher", watch_sla, lambda s: s.sla_watch_interval_s),))

Several replicas run the same job at the same time. The mechanism does not elect a leader:
a job makes its effects exactly-once itself, with a unique key in its own table written in the
same transaction as the event it emits (a second replica's insert conflicts and emits nothing),
and `FOR UPDATE SKIP LOCKED` where it claims rows. A failing pass is logged and the next one
runs on time; tests call `run_once` to drive a pass deterministically.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import metrics
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


@dataclass(frozen=True)
class JobContext:
    """What a job pass gets: a way to open units of work, the service settings and the time."""

    unit_of_work: Callable[[], UnitOfWork]
    engine: AsyncEngine
    settings: Any
    now: datetime


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: Callable[[JobContext], Awaitable[None]]
    interval_s: Callable[[Any], float]
    """Seconds between passes, read from the service's settings."""


class PeriodicRunner:
    def __init__(
        self,
        jobs: tuple[PeriodicJob, ...],
        *,
        unit_of_work: Callable[[], UnitOfWork],
        engine: AsyncEngine,
        settings: Any,
        service: str = "",
    ) -> None:
        self._service = service
        self._jobs = {job.name: job for job in jobs}
        self._unit_of_work = unit_of_work
        self._engine = engine
        self._settings = settings
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for job in self._jobs.values():
            self._tasks.append(asyncio.create_task(self._loop(job), name=f"periodic:{job.name}"))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_once(self, name: str, *, now: datetime | None = None) -> None:
        """One pass of the named job (what the loop does each interval)."""
        job = self._jobs[name]
        ctx = JobContext(self._unit_of_work, self._engine, self._settings, now or datetime.now(UTC))
        started = time.perf_counter()
        try:
            with tracer.start_as_current_span(f"periodic {job.name}"):
                await job.run(ctx)
        except Exception:
            self._record(job, started, "error")
            raise
        self._record(job, started, "ok")

    def _record(self, job: PeriodicJob, started: float, outcome: str) -> None:
        attributes = {"service": self._service, "watcher": job.name, "outcome": outcome}
        metrics.WATCHER_PASS.record(time.perf_counter() - started, attributes)

    async def _loop(self, job: PeriodicJob) -> None:
        interval = job.interval_s(self._settings)
        while True:
            try:
                await self.run_once(job.name)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic job %s failed; the next pass runs in %.1fs", job.name, interval)
            await asyncio.sleep(interval)
