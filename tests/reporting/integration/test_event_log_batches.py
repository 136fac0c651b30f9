"""A batch of events into reporting's log, on PostgreSQL and on SQLite: each stored once with what it
carried, the ones already there left out of the answer, and one statement SQLAlchemy compiles once
whatever the batch's size (the consumer writes batches of up to `consumer_batch_size`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.store import event_log
from services.reporting.store.tables import event_log as log_table
from shared.events import CloudEvent
from tests.statement_cache import CompiledStatements

pytestmark = pytest.mark.asyncio(loop_scope="session")

T = datetime(2026, 10, 5, 12, 30, tzinfo=UTC)


def _events(n: int, start: int = 0) -> list[CloudEvent]:
    return [
        CloudEvent(
            source="/itsm/tests",
            type="itsm.incident.created.v1",
            time=T + timedelta(seconds=i),
            subject=None if i % 3 == 0 else f"s{i}",
            data={"i": i, "nested": {"text": f"é{i}"}, "list": [1, None]},
        )
        for i in range(start, start + n)
    ]


async def test_a_batch_is_stored_once_returns_the_new_events_and_compiles_once(engine: AsyncEngine) -> None:
    watched = CompiledStatements(engine)
    try:
        first = _events(3)
        async with engine.begin() as conn:
            assert await event_log.record_events(conn, first) == first
        second = [first[1], *_events(4, start=3)]  # one already logged, four new, another size
        watched.clear()
        async with engine.begin() as conn:
            assert await event_log.record_events(conn, second) == second[1:]
        assert watched.executed >= 1
        assert watched.compiled == []
    finally:
        watched.close()
    async with engine.connect() as conn:
        rows = (await conn.execute(select(log_table).order_by(log_table.c.time))).all()
    stored = [(r.event_id, r.type, r.source, r.subject, r.time, r.data) for r in rows]
    assert stored == [(str(e.id), e.type, e.source, e.subject, e.time, e.data) for e in [*first, *second[1:]]]
