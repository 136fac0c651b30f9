"""The inbox: a consumer records each event id in the same transaction as its effect.

A redelivered event finds its id already there; the consumer acknowledges it and does nothing.
"""

from __future__ import annotations

import json

from sqlalchemy import Column, MetaData, String, Table, TextClause, func, text
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import UtcDateTime


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("processed_at", UtcDateTime, nullable=False, server_default=func.now()),
    )


def _claim_statement(table: Table) -> TextClause:
    # Plain SQL that PostgreSQL and SQLite (3.35+) both take. SQLAlchemy does not cache the
    # compiled form of `insert().on_conflict_do_nothing()`, and this runs for every event.
    return text(
        f"INSERT INTO {table.name} (consumer, event_id, event_type) VALUES (:consumer, :event_id, :event_type) "
        "ON CONFLICT DO NOTHING RETURNING event_id"
    )


def _claim_batch_statement(table: Table, dialect: str) -> TextClause:
    # The batch as one JSON array bound to one parameter: the same SQL whatever the batch's size,
    # so it is compiled once (a multi-row `insert().on_conflict_do_nothing()` is compiled per call).
    # SQLite needs the WHERE to parse ON CONFLICT after a SELECT.
    head = f"INSERT INTO {table.name} (consumer, event_id, event_type) "
    tail = " ON CONFLICT DO NOTHING RETURNING event_id"
    if dialect == "postgresql":
        rows = (
            "SELECT CAST(:consumer AS VARCHAR), e.event_id, e.event_type "
            "FROM json_to_recordset(CAST(:events AS JSON)) AS e(event_id VARCHAR, event_type VARCHAR)"
        )
    else:
        rows = (
            "SELECT :consumer, json_extract(value, '$.event_id'), json_extract(value, '$.event_type') "
            "FROM json_each(:events) WHERE true"
        )
    return text(head + rows + tail)


_CLAIMS: dict[str, TextClause] = {}
_CLAIM_BATCHES: dict[tuple[str, str], TextClause] = {}


async def claim_many(conn: AsyncConnection, table: Table, *, consumer: str, events: list[tuple[str, str]]) -> set[str]:
    """Record a batch of (event id, type) as processed by `consumer` in one statement; returns
    the ids that were not recorded before (a multi-row INSERT ... ON CONFLICT DO NOTHING RETURNING)."""
    key = (table.name, conn.dialect.name)
    stmt = _CLAIM_BATCHES.get(key)
    if stmt is None:
        stmt = _CLAIM_BATCHES[key] = _claim_batch_statement(table, conn.dialect.name)
    rows = json.dumps([{"event_id": event_id, "event_type": type_} for event_id, type_ in events])
    return set((await conn.execute(stmt, {"consumer": consumer, "events": rows})).scalars())


async def claim(conn: AsyncConnection, table: Table, *, consumer: str, event_id: str, event_type: str) -> bool:
    """Record the event as processed by `consumer`; False when it already was."""
    stmt = _CLAIMS.get(table.name)
    if stmt is None:
        stmt = _CLAIMS[table.name] = _claim_statement(table)
    values = {"consumer": consumer, "event_id": event_id, "event_type": event_type}
    return (await conn.execute(stmt, values)).first() is not None
