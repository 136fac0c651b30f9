"""The changes the incident service has learnt from the change service's events (`change.created.v1`
and every lifecycle event after it): a problem or an incident is linked only to a change known here,
under its own number."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Column, String, Table, Uuid, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.store.tables import metadata
from shared.db import UtcDateTime, insert_ignoring_duplicates

known_change = Table(
    "known_change",
    metadata,
    Column("change_id", Uuid, primary_key=True),
    Column("change_number", String(20), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)


_LEARN = insert_ignoring_duplicates(known_change, ("change_id", "change_number", "updated_at"))


async def learn_change(conn: AsyncConnection, *, change_id: UUID, change_number: str, now: datetime) -> None:
    """Remember a change the change service told us about (any of its events; repeats are no-ops)."""
    await conn.execute(_LEARN, {"change_id": change_id, "change_number": change_number, "updated_at": now})


async def known_change_number(conn: AsyncConnection, change_id: UUID) -> str | None:
    """The number of a change the service has learnt, or None when it has not heard of it."""
    number: str | None = await conn.scalar(
        select(known_change.c.change_number).where(known_change.c.change_id == change_id)
    )
    return number
