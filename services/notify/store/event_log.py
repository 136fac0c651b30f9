"""The events the service consumed, kept as they came: what a replay sends again."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.domain.deliveries import DeliveryStatus
from services.notify.store.tables import received_event, webhook_delivery
from shared.db import insert_ignoring_duplicates

E = received_event


async def keep(
    conn: AsyncConnection, event_id: UUID, type_: str, subject: str | None, time: datetime, body: str, now: datetime
) -> None:
    values = {"id": event_id, "type": type_, "subject": subject, "time": time, "received_at": now, "body": body}
    await conn.execute(insert_ignoring_duplicates(E, values), values)


async def get_event(conn: AsyncConnection, event_id: UUID) -> Any | None:
    return (await conn.execute(select(E).where(E.c.id == event_id))).first()


async def events_between(conn: AsyncConnection, since: datetime, until: datetime, limit: int) -> list[Any]:
    """The events whose time is in [since, until), oldest first, at most `limit` of them."""
    query = select(E).where(E.c.time >= since, E.c.time < until).order_by(E.c.time, E.c.id).limit(limit)
    return list(await conn.execute(query))


async def forget_before(conn: AsyncConnection, before: datetime, limit: int) -> int:
    """Delete up to `limit` events received before `before`, except those a pending delivery still
    needs; how many were deleted."""
    d = webhook_delivery
    still_needed = select(d.c.event_id).where(d.c.status == DeliveryStatus.PENDING.value)
    old = select(E.c.id).where(E.c.received_at < before, E.c.id.not_in(still_needed)).limit(limit)
    ids = list((await conn.scalars(old)).all())
    if ids:
        await conn.execute(delete(E).where(E.c.id.in_(ids)))
    return len(ids)
