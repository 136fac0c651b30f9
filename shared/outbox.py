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
import functools
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry import propagate
from sqlalchemy import (
    Column,
    Insert,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    Update,
    bindparam,
    func,
    select,
    update,
)
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
        Column("subject", String(200), index=True),  # evidence exports and the relay look rows up by subject
        Column("payload", Text, nullable=False),
        Column("headers", Text, nullable=False, server_default="{}"),
        Column("created_at", UtcDateTime, nullable=False, server_default=func.now()),
        Column("published_at", UtcDateTime, index=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text),
    )


SUBJECT_INDEX = "ix_outbox_subject"


def create_subject_index() -> None:
    """In each service's migration: the outbox's rows of a subject, read by evidence exports and by
    the relay (a subject's earlier rows pending outside its batch)."""
    from alembic import op

    op.create_index(SUBJECT_INDEX, "outbox", ["subject"])


def drop_subject_index() -> None:
    from alembic import op

    op.drop_index(SUBJECT_INDEX, table_name="outbox")


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
        """Publish one batch; returns (published, failed).

        The batch is claimed (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and published with many
        messages in flight on the channel, each confirmed by the broker; the confirmed rows are
        marked sent in one UPDATE, the failed ones keep pending with their attempts and error.
        Rows of one subject go out one after the other, each only once the one before it was
        confirmed: a subject's rows reach the broker in the order they were written. A row that
        fails stops its subject for this pass (the rows after it stay pending, untouched, and go
        after it in a later pass), and rows of a subject that has an earlier row pending outside
        the batch (claimed by another replica, or committed late) wait for it."""
        t = self._table
        query = (
            select(t.c.id, t.c.event_id, t.c.event_type, t.c.routing_key, t.c.subject, t.c.payload, t.c.headers)
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
            waiting = await self._earlier_elsewhere(conn, rows) if self._skip_locked else {}
            chains = subject_chains(rows, waiting)
            outcomes = await asyncio.gather(*(self._publish_chain(chain) for chain in chains))
            sent = [row_id for chain in outcomes for row_id, error in chain if error is None]
            errors = [(row_id, error) for chain in outcomes for row_id, error in chain if error is not None]
            if sent:
                await conn.execute(_mark_sent(t), {"ids": sent, "now": datetime.now(UTC)})
            if errors:
                failures = [{"row_id": row_id, "error": repr(error)[:2000]} for row_id, error in errors]
                await conn.execute(_mark_failed(t), failures)
        if sent:
            metrics.OUTBOX_PUBLISHED.add(len(sent), self._attributes)
        if errors:
            metrics.OUTBOX_PUBLISH_FAILURES.add(len(errors), self._attributes)
            log.warning("outbox: %d of %d events not published yet: %r", len(errors), len(rows), errors[0][1])
        return len(sent), len(errors)

    async def _earlier_elsewhere(self, conn: AsyncConnection, rows: Sequence[Any]) -> dict[str, int]:
        """For the batch's subjects that have a pending row not in the batch and older than the
        batch's last row: the id of the oldest such row."""
        subjects = sorted({r.subject for r in rows if r.subject is not None})
        if not subjects:
            return {}
        values = {"subjects": subjects, "ids": [r.id for r in rows], "last": rows[-1].id}
        return {row.subject: row.first for row in await conn.execute(_earlier(self._table), values)}

    async def _publish_chain(self, chain: Sequence[Any]) -> list[tuple[int, BaseException | None]]:
        """Publish one subject's rows in order, each after the one before was confirmed; stops at
        the first that fails. Returns (id, None or the error) of each row tried."""
        done: list[tuple[int, BaseException | None]] = []
        for row in chain:
            try:
                await self._publish(row)
            except Exception as exc:
                done.append((row.id, exc))
                break
            done.append((row.id, None))
        return done

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


def subject_chains(rows: Sequence[Any], waiting: Mapping[str, int]) -> list[list[Any]]:
    """The batch's rows (in id order) as the chains the relay publishes side by side: one per
    subject, in id order (a row without a subject is a chain of its own); a subject's rows after
    the id `waiting` gives for it are left out (an earlier row of it is pending elsewhere)."""
    chains: dict[Any, list[Any]] = {}
    for row in rows:
        if row.subject is None:
            chains[("row", row.id)] = [row]
            continue
        first_elsewhere = waiting.get(row.subject)
        if first_elsewhere is not None and row.id > first_elsewhere:
            continue
        chains.setdefault(row.subject, []).append(row)
    return list(chains.values())


@functools.cache
def _mark_sent(table: Table) -> Update:
    sent = table.c.id.in_(bindparam("ids", expanding=True))
    return update(table).where(sent).values(published_at=bindparam("now"))


@functools.cache
def _mark_failed(table: Table) -> Update:
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(attempts=table.c.attempts + 1, last_error=bindparam("error"))
    )


@functools.cache
def _earlier(table: Table) -> Select[tuple[str, int]]:
    t = table
    return (
        select(t.c.subject, func.min(t.c.id).label("first"))
        .where(
            t.c.published_at.is_(None),
            t.c.subject.in_(bindparam("subjects", expanding=True)),
            t.c.id < bindparam("last"),
            t.c.id.not_in(bindparam("ids", expanding=True)),
        )
        .group_by(t.c.subject)
    )


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
