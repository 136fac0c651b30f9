"""The backlog a platform team watches, sampled every few seconds for the gauges of shared.metrics:
unpublished outbox rows and the age of the oldest, the depth of the service's queue and of its
dead-letter queue, the consumers on the queue, and whether this process's consumer is attached.

Each sample costs one bounded query (the count stops at `OUTBOX_COUNT_BOUND`; the oldest row is
the first by id, as the relay reads them) and two passive queue declarations on a channel of
its own. A source that does not answer leaves its gauges absent until it does, rather than
reporting a stale value; an alert on a gauge gone quiet is the `up` or `attached` one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import metrics
from shared.db import reading
from shared.messaging import BrokerConnection, QueueNames
from shared.outbox import pending_on

log = logging.getLogger(__name__)

OUTBOX_COUNT_BOUND = 100_000
"""Pending rows are counted up to this many: past it the backlog is an incident whatever the count."""
SOURCE_TIMEOUT_S = 2.0


class BacklogSampler:
    def __init__(
        self,
        service: str,
        *,
        engine: AsyncEngine,
        outbox: Table,
        broker: BrokerConnection,
        queue_name: str | None,
        consumer_attached: Callable[[], bool] | None,
        interval_s: float,
    ) -> None:
        self.readings = metrics.Readings(service)
        self._engine = engine
        self._outbox = outbox
        self._broker = broker
        self._queues = QueueNames.for_queue(queue_name) if queue_name else None
        self._consumer_attached = consumer_attached
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._failing: set[str] = set()

    def start(self) -> None:
        metrics.publish(self.readings)
        self._task = asyncio.create_task(self._run(), name=f"backlog-sampler-{self.readings.service}")

    async def stop(self) -> None:
        metrics.withdraw(self.readings)
        if self._task is not None:
            self._task.cancel()
            # Bounded: a sample caught in a broker or database call must not hold up the shutdown.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, SOURCE_TIMEOUT_S)
            self._task = None

    async def _run(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(self._interval_s)

    async def sample(self) -> None:
        """Refresh every reading once (a failing source clears its own readings only)."""
        if self._consumer_attached is not None:
            self.readings.set("itsm.consumer.attached", [(1.0 if self._consumer_attached() else 0.0, {})])
        try:
            pending, oldest_age = await asyncio.wait_for(self._outbox_backlog(), SOURCE_TIMEOUT_S)
            self.readings.set("itsm.outbox.pending", [(pending, {})])
            self.readings.set("itsm.outbox.oldest_pending_age", [(oldest_age, {})])
            self._failing.discard("outbox")
        except Exception as exc:
            self._note_failure("outbox", exc)
            self.readings.clear("itsm.outbox.pending")
            self.readings.clear("itsm.outbox.oldest_pending_age")
        if self._queues is not None and not self._broker.is_connected:
            self._clear_queue_readings()  # readiness says so already; nothing to log
        elif self._queues is not None:
            try:
                await asyncio.wait_for(self._queue_depths(self._queues), SOURCE_TIMEOUT_S)
                self._failing.discard("queues")
            except Exception as exc:
                self._note_failure("queues", exc)
                self._clear_queue_readings()

    def _clear_queue_readings(self) -> None:
        for gauge in ("queue_depth", "queue_consumers", "dead_letter_queue_depth"):
            self.readings.clear(f"itsm.consumer.{gauge}")

    def _note_failure(self, source: str, exc: Exception) -> None:
        # Once per outage: a broker away for an hour is not worth a line every few seconds. Before
        # the consumer first attaches, its queue may not exist yet: nothing to tell then.
        starting = self._consumer_attached is not None and not self._consumer_attached()
        level = logging.DEBUG if source in self._failing or starting else logging.INFO
        self._failing.add(source)
        log.log(level, "%s backlog not sampled (its gauges are left out until it is): %r", source, exc)

    async def _outbox_backlog(self) -> tuple[float, float]:
        t = self._outbox
        async with reading(self._engine) as conn:
            pending = await pending_on(conn, t, at_most=OUTBOX_COUNT_BOUND)
            oldest = await conn.scalar(
                select(t.c.created_at).where(t.c.published_at.is_(None)).order_by(t.c.id).limit(1)
            )
        age = 0.0 if oldest is None else max((datetime.now(UTC) - oldest).total_seconds(), 0.0)
        return float(pending), age

    async def _queue_depths(self, names: QueueNames) -> None:
        connection = self._broker.connection
        transport = connection.transport if connection is not None else None
        if transport is None:
            raise ConnectionError("broker not connected")
        # A plain channel of its own for each sample, closed after it: a passive declaration of a
        # queue that is gone closes its channel, which a robust channel would then reopen (and
        # answer a passive declaration it has seen before from memory, counts and all).
        channel = await transport.connection.channel()
        try:
            main = await channel.queue_declare(names.main, passive=True)
            dead = await channel.queue_declare(names.dead, passive=True)
        finally:
            if not channel.is_closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(channel.close(), SOURCE_TIMEOUT_S)
        queue = {"queue": names.main}
        self.readings.set("itsm.consumer.queue_depth", [(float(main.message_count or 0), queue)])
        consumers = float(main.consumer_count or 0)
        self.readings.set("itsm.consumer.queue_consumers", [(consumers, queue)])
        depth = float(dead.message_count or 0)
        self.readings.set("itsm.consumer.dead_letter_queue_depth", [(depth, {"queue": names.dead})])
