"""Deliveries and their log in the database: queue them, claim the next one that is due (locked,
skipping what another replica holds), record each attempt, and the log's read queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.domain.deliveries import DeliveryStatus
from services.notify.domain.subscriptions import SubscriptionStatus
from services.notify.store.claims import claim_first
from services.notify.store.tables import received_event, webhook_attempt, webhook_delivery, webhook_subscription
from shared.db import page, where_given

D, A, S, E = webhook_delivery, webhook_attempt, webhook_subscription, received_event
PENDING = DeliveryStatus.PENDING.value


async def add_deliveries(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(D), list(rows))


async def claim_due(conn: AsyncConnection, now: datetime) -> Any | None:
    """The next delivery that is due, with its event's body, locked for this transaction.

    Only the first pending delivery of a subject (per subscription) is due: a later one waits
    while an earlier one is still pending, however often that one fails. A row another replica
    holds is skipped (and with it, by the rule above, the rest of its subject); a row it delivered
    meanwhile no longer matches (PostgreSQL re-checks the condition on the committed row). On
    SQLite, transactions that write run one at a time."""
    earlier = D.alias("earlier")
    held = (
        select(earlier.c.seq)
        .where(
            earlier.c.subscription_id == D.c.subscription_id,
            earlier.c.ordering_key == D.c.ordering_key,
            earlier.c.status == PENDING,
            or_(
                earlier.c.event_time < D.c.event_time,
                and_(earlier.c.event_time == D.c.event_time, earlier.c.seq < D.c.seq),
            ),
        )
        .exists()
    )
    query = (
        select(D, E.c.body)
        .join(S, S.c.id == D.c.subscription_id)
        .join(E, E.c.id == D.c.event_id)
        .where(
            D.c.status == PENDING,
            D.c.next_attempt_at <= now,
            S.c.status == SubscriptionStatus.ACTIVE.value,
            ~held,
        )
        .order_by(D.c.next_attempt_at, D.c.seq)
    )
    return await claim_first(conn, query, D)


async def update_delivery(conn: AsyncConnection, delivery_id: UUID, values: dict[str, Any]) -> None:
    await conn.execute(update(D).where(D.c.id == delivery_id).values(values))


async def add_attempt(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(A).values(values))


async def list_deliveries(
    conn: AsyncConnection,
    subscription_id: UUID,
    *,
    status: str | None,
    event_id: UUID | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    query = where_given(select(D).where(D.c.subscription_id == subscription_id), D, status=status, event_id=event_id)
    return await page(conn, query, D.c.seq.desc(), limit=limit, offset=offset)


async def get_delivery(conn: AsyncConnection, delivery_id: UUID) -> Any | None:
    return (await conn.execute(select(D).where(D.c.id == delivery_id))).first()


async def attempts_of(conn: AsyncConnection, delivery_id: UUID, limit: int) -> list[Any]:
    query = select(A).where(A.c.delivery_id == delivery_id).order_by(A.c.attempted_at, A.c.id).limit(limit)
    return list(await conn.execute(query))
