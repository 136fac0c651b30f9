"""Reporting persistence: the event log, the incident projection, and their queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Integer, String, Table, Uuid, bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.projections import IncidentFacts
from shared.db import UtcDateTime, make_metadata, page
from shared.events import CloudEvent
from shared.inbox import inbox_table
from shared.numbering import number_sequence_table
from shared.outbox import outbox_table

metadata = make_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
number_sequence = number_sequence_table(metadata)

event_log = Table(
    "event_log",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("type", String(200), nullable=False, index=True),
    Column("source", String(200), nullable=False, index=True),
    Column("subject", String(200), index=True),
    Column("time", UtcDateTime, nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False, server_default=func.now()),
)

incident_projection = Table(
    "incident_projection",
    metadata,
    Column("incident_id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("priority", Integer, nullable=False, index=True),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


def _insert(conn: AsyncConnection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


# Constant statements with bound values: SQLAlchemy does not cache `insert().on_conflict_...()`
# and these run for every event reporting receives.
_RECORD_EVENT = text(
    "INSERT INTO event_log (event_id, type, source, subject, time, data) "
    "VALUES (:event_id, :type, :source, :subject, :time, :data) ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(bindparam("time", type_=UtcDateTime), bindparam("data", type_=JSON))


async def record_event(conn: AsyncConnection, event: CloudEvent) -> bool:
    """Store the event once; False when its id is already in the log."""
    values = {
        "event_id": str(event.id),
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "time": event.time,
        "data": event.data,
    }
    return (await conn.execute(_RECORD_EVENT, values)).first() is not None


async def upsert_incident(conn: AsyncConnection, facts: IncidentFacts) -> None:
    row = facts.as_row()
    stmt = _insert(conn)(incident_projection).values(row)
    # An older event arriving late must not overwrite a newer state.
    stmt = stmt.on_conflict_do_update(
        index_elements=[incident_projection.c.incident_id],
        set_={k: stmt.excluded[k] for k in row if k not in ("incident_id", "opened_at")},
        where=incident_projection.c.updated_at <= stmt.excluded.updated_at,
    )
    await conn.execute(stmt)


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
    query = select(event_log)
    if type_ is not None:
        query = query.where(event_log.c.type == type_)
    if subject is not None:
        query = query.where(event_log.c.subject == subject)
    if source is not None:
        query = query.where(event_log.c.source == source)
    if since is not None:
        query = query.where(event_log.c.time >= since)
    if until is not None:
        query = query.where(event_log.c.time < until)
    rows, total = await page(conn, query, event_log.c.time, event_log.c.event_id, limit=limit, offset=offset)
    return list(rows), total


async def incident_counts(conn: AsyncConnection) -> list[tuple[str, int, int]]:
    p = incident_projection
    rows = await conn.execute(select(p.c.status, p.c.priority, func.count()).group_by(p.c.status, p.c.priority))
    return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]
