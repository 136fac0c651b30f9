"""Field history of controlled records (suppliers, contracts, disputes): one table for all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier.domain.records import Changes
from services.supplier.store.tables import record_history


@dataclass(frozen=True)
class Entry:
    """One action on a record and the fields it changed."""

    action: str
    actor: str
    changes: Changes
    reason: str = ""
    amendment: int | None = None


async def write_history(
    conn: AsyncConnection, record_type: str, record_id: UUID, version: int, at: datetime, entries: Iterable[Entry]
) -> None:
    rows = [
        {
            "record_type": record_type,
            "record_id": record_id,
            "version": version,
            "at": at,
            "actor": e.actor,
            "action": e.action,
            "field": name,
            "old": old,
            "new": new,
            "reason": e.reason,
            "amendment": e.amendment,
        }
        for e in entries
        for name, (old, new) in (e.changes or {"*": (None, None)}).items()
    ]
    if rows:
        await conn.execute(record_history.insert(), rows)


async def history_of(conn: AsyncConnection, record_type: str, record_id: UUID) -> list[Any]:
    t = record_history
    query = select(t).where(t.c.record_type == record_type, t.c.record_id == record_id).order_by(t.c.id)
    return list(await conn.execute(query))
