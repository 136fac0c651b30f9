"""The event log: every event reporting received, stored once; read back by the API and by a
projection rebuild."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, and_, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.store.tables import event_log
from shared.db import UtcDateTime, page, where_given
from shared.events import CloudEvent

# Constant statements with bound values: SQLAlchemy does not cache `insert().on_conflict_...()`
# and these run for every event reporting receives.
_RECORD_EVENT = text(
    "INSERT INTO event_log (event_id, type, source, subject, time, data) "
    "VALUES (:event_id, :type, :source, :subject, :time, :data) ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(bindparam("time", type_=UtcDateTime), bindparam("data", type_=JSON))


def _event_row(event: CloudEvent) -> dict[str, Any]:
    return {
        "event_id": str(event.id),
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "time": event.time,
        "data": event.data,
    }


async def record_event(conn: AsyncConnection, event: CloudEvent) -> bool:
    """Store the event once; False when its id is already in the log."""
    return (await conn.execute(_RECORD_EVENT, _event_row(event))).first() is not None


# A batch as one array per column (PostgreSQL's `unnest`): the same SQL whatever the batch's size,
# so it is compiled once and prepared once per connection (a multi-row VALUES differs per size).
_RECORD_EVENTS = text(
    "INSERT INTO event_log (event_id, type, source, subject, time, data) "
    "SELECT * FROM unnest(CAST(:event_ids AS VARCHAR[]), CAST(:types AS VARCHAR[]), CAST(:sources AS VARCHAR[]), "
    "CAST(:subjects AS VARCHAR[]), CAST(:times AS TIMESTAMPTZ[]), CAST(:data AS JSON[])) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
)


async def record_events(conn: AsyncConnection, events: Sequence[CloudEvent]) -> list[CloudEvent]:
    """Store a batch of events (one statement on PostgreSQL; on SQLite, in process, one cached
    statement per event); returns those not already in the log."""
    if not events:
        return []
    if conn.dialect.name != "postgresql":
        return [e for e in events if await record_event(conn, e)]
    columns = {
        "event_ids": [str(e.id) for e in events],
        "types": [e.type for e in events],
        "sources": [e.source for e in events],
        "subjects": [e.subject for e in events],
        "times": [e.time for e in events],
        "data": [json.dumps(e.data) for e in events],
    }
    fresh = set((await conn.execute(_RECORD_EVENTS, columns)).scalars())
    return [e for e in events if str(e.id) in fresh]


async def log_batches(conn: AsyncConnection, batch_size: int) -> Any:
    """The whole event log, oldest first, in batches of CloudEvents (keyset pagination)."""
    after: tuple[datetime, str] | None = None
    while True:
        query = select(event_log.c.event_id, event_log.c.type, event_log.c.source, event_log.c.subject)
        query = query.add_columns(event_log.c.time, event_log.c.data)
        if after is not None:
            t, i = after
            query = query.where((event_log.c.time > t) | and_(event_log.c.time == t, event_log.c.event_id > i))
        rows = (await conn.execute(query.order_by(event_log.c.time, event_log.c.event_id).limit(batch_size))).all()
        if not rows:
            return
        yield [
            CloudEvent(id=r.event_id, type=r.type, source=r.source, subject=r.subject, time=r.time, data=r.data)
            for r in rows
        ]
        after = (rows[-1].time, rows[-1].event_id)


async def list_events(
    conn: AsyncConnection,
    *,
    type_: str | None,
    subject: str | None,
    source: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    query = where_given(select(event_log), event_log, type=type_, subject=subject, source=source)
    if since is not None:
        query = query.where(event_log.c.time >= since)
    if until is not None:
        query = query.where(event_log.c.time < until)
    rows, total = await page(conn, query, event_log.c.time, event_log.c.event_id, limit=limit, offset=offset)
    return list(rows), total
