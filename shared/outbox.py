"""The transactional outbox: events are rows written in the state change's own transaction.

`OutboxRelay` publishes pending rows with publisher confirms and marks them sent. Several
replicas may run it: rows are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL. Delivery is
at least once (a crash between publish and mark republishes), which the consumers' inbox absorbs.
The `traceparent` of the request that wrote a row is stored with it and re-attached at publish
time, so one trace runs from the HTTP request to every consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import propagate
from sqlalchemy import Column, Insert, Integer, MetaData, String, Table, Text, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared import metrics
from shared.db import BigIntKey, UtcDateTime, reading
from shared.events import CloudEvent
from shared.events.envelope import current_wire_form

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigIntKey, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(200), nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("subject", String(200)),
        Column("payload", Text, nullable=False),
        Column("headers", Text, nullable=False, server_default="{}"),
        Column("created_at", UtcDateTime, nullable=False, server_default=func.now()),
        Column("published_at", UtcDateTime, index=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text),
    )


def trace_headers() -> str:
    """The current trace context, as the outbox stores it."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return json.dumps(carrier)


def outbox_row(event: CloudEvent, headers: str | None = None) -> dict[str, Any]:
    """The row for one event, carrying the current trace context (`headers`, when the caller
    already took it for a batch of rows written in the same context)."""
    return {
        "event_id": str(event.id),
        "event_type": event.type,
        "routing_key": event.routing_key,
        "subject": event.subject,
        "payload": event.model_dump_json(),
        "headers": trace_headers() if headers is None else headers,
    }


_INSERTS: dict[Table, Insert] = {}


async def write_events(conn: AsyncConnection, table: Table, events: Sequence[CloudEvent]) -> None:
    if events:
        # One INSERT construct per outbox table, reused: SQLAlchemy then finds its compiled form
        # in the cache without building and cache-keying a new statement for every commit.
        insert = _INSERTS.get(table)
        if insert is None:
            insert = _INSERTS[table] = table.insert()
        # One trace context for the whole commit (taking it costs more than the rest of a row).
        headers = trace_headers()
        await conn.execute(insert, [outbox_row(e, headers) for e in events])


class BrokerPublisher(Protocol):
    """What the relay publishes rows through: `shared.messaging.EventPublisher` in production.
    ("Publish" means one thing in this code base: putting an event on the broker.)"""

    @property
    def is_connected(self) -> bool: ...

    async def publish(
        self, routing_key: str, body: bytes, *, message_id: str, event_type: str, headers: dict[str, str]
    ) -> None: ...


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        broker: BrokerPublisher,
        *,
        batch_size: int = 200,
        poll_interval_s: float = 0.5,
        max_backoff_s: float = 5.0,
        service: str = "",
    ) -> None:
        self._engine = engine
        self._attributes = {"service": service}
        self._table = table
        self._broker = broker
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()
        self._notified = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._skip_locked = engine.dialect.name == "postgresql"

    def notify(self) -> None:
        """Called after a commit that wrote outbox rows: publish now rather than at the next poll."""
        self._notified = True
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, flush_timeout_s: float = 5.0) -> None:
        """Flush, then stop: publish the rows still pending (in batches, while passes publish and
        the broker takes them) within `flush_timeout_s`. What is left then (the broker away, or
        the bound reached) waits for the next start of any replica's relay."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, timeout=flush_timeout_s)
        except TimeoutError:
            log.warning("outbox relay: not flushed within %.0fs; the rest waits for the next start", flush_timeout_s)
        except asyncio.CancelledError:
            pass
        self._task = None

    async def _run(self) -> None:
        backoff = self._poll_interval_s
        while True:
            # Cleared before the pass, so that a commit notifying during it wakes the next pass.
            self._wake.clear()
            flushing = self._stopping
            published, failed = 0, 0
            if self._broker.is_connected:
                try:
                    published, failed = await self.relay_once()
                except Exception:
                    log.exception("outbox relay pass failed")
                    failed = 1
            if flushing:
                if failed or not published:
                    return  # all published, or the broker does not take them now
                continue
            backoff = min(backoff * 2, self._max_backoff_s) if failed else self._poll_interval_s
            # After a full batch there may be more right away. After a partial one, a relay that
            # is told of commits (the API process's) waits for the next notify: rows committed
            # during the pass have already set it, and an immediate extra pass would find nothing
            # (at a moderate rate: one more transaction per event, for nothing). A relay never
            # notified (a separate worker) looks again at once, as it cannot know.
            more = published >= self._batch_size or (published > 0 and not self._notified)
            if more and not failed:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)

    async def relay_once(self) -> tuple[int, int]:
        """Publish one batch; returns (published, failed)."""
        t = self._table
        query = (
            select(t.c.id, t.c.event_id, t.c.event_type, t.c.routing_key, t.c.payload, t.c.headers)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.id)
            .limit(self._batch_size)
        )
        if self._skip_locked:
            query = query.with_for_update(skip_locked=True)
        async with self._engine.begin() as conn:
            rows = (await conn.execute(query)).all()
            if not rows:
                return 0, 0
            results = await asyncio.gather(*(self._publish(r) for r in rows), return_exceptions=True)
            sent = [r.id for r, res in zip(rows, results, strict=True) if res is None]
            errors = [(r.id, res) for r, res in zip(rows, results, strict=True) if res is not None]
            if sent:
                await conn.execute(update(t).where(t.c.id.in_(sent)).values(published_at=datetime.now(UTC)))
            for row_id, error in errors:
                await conn.execute(
                    update(t).where(t.c.id == row_id).values(attempts=t.c.attempts + 1, last_error=repr(error)[:2000])
                )
        if sent:
            metrics.OUTBOX_PUBLISHED.add(len(sent), self._attributes)
        if errors:
            metrics.OUTBOX_PUBLISH_FAILURES.add(len(errors), self._attributes)
            log.warning("outbox: %d of %d events not published yet: %r", len(errors), len(rows), errors[0][1])
        return len(sent), len(errors)

    async def _publish(self, row: Any) -> None:
        token = otel_context.attach(propagate.extract(json.loads(row.headers or "{}")))
        try:
            await self._broker.publish(
                row.routing_key,
                current_wire_form(row.payload).encode(),
                message_id=row.event_id,
                event_type=row.event_type,
                headers={},
            )
        finally:
            otel_context.detach(token)


async def pending_count(engine: AsyncEngine, table: Table) -> int:
    async with reading(engine) as conn:
        return await pending_on(conn, table)


async def pending_on(conn: AsyncConnection, table: Table, *, at_most: int | None = None) -> int:
    """Rows the relay has not published yet (the outbox backlog), counted on `conn`; with `at_most`,
    counted no further (a sampler's bound: a count over millions of rows is a scan)."""
    unpublished = select(table.c.id).where(table.c.published_at.is_(None))
    if at_most is not None:
        unpublished = unpublished.limit(at_most)
    value = await conn.scalar(select(func.count()).select_from(unpublished.subquery()))
    return int(value or 0)
