"""The inbox: a consumer records each event id in the same transaction as its effect.

A redelivered event finds its id already there; the consumer acknowledges it and does nothing.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, func
from sqlalchemy.dialects import postgresql, sqlite
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


async def claim(conn: AsyncConnection, table: Table, *, consumer: str, event_id: str, event_type: str) -> bool:
    """Record the event as processed by `consumer`; False when it already was."""
    values = {"consumer": consumer, "event_id": event_id, "event_type": event_type}
    dialect = conn.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(values).on_conflict_do_nothing().returning(table.c.event_id)
    return (await conn.execute(stmt)).first() is not None
