"""Claiming queued work across replicas, for every outbound channel (webhook deliveries, e-mail):
the first row of a query that is due, locked for the caller's transaction, skipping rows another
replica holds (`FOR UPDATE SKIP LOCKED` on PostgreSQL). The caller sends it and records the
attempt in that same transaction, so no two replicas send the same row. On SQLite (one machine)
transactions that write run one at a time, which gives the same guarantee."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table
from sqlalchemy.ext.asyncio import AsyncConnection


async def claim_first(conn: AsyncConnection, query: Select[Any], of: Table) -> Any | None:
    """The first row of `query`, its `of` row locked for this transaction, or None."""
    query = query.limit(1)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=of, skip_locked=True)
    return (await conn.execute(query)).first()
