"""Webhook subscriptions in the database: the repository and the list query."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notify.domain.chat import Channel
from services.notify.domain.subscriptions import Subscription, SubscriptionStatus
from services.notify.store.tables import webhook_attempt, webhook_delivery, webhook_subscription
from shared.db import page, record_of, row_by_id, row_values, update_versioned, where_given

S = webhook_subscription


def _record(row: Any) -> Subscription:
    return record_of(
        Subscription,
        row,
        status=SubscriptionStatus(row.status),
        data_filter=dict(row.data_filter or {}),
        channel=Channel(row.channel),
    )


class SubscriptionRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, subscription_id: UUID, *, for_update: bool = False) -> Subscription | None:
        row = await row_by_id(self.conn, S, subscription_id, for_update=for_update)
        return None if row is None else _record(row)

    async def add(self, item: Subscription) -> None:
        values = row_values(S, item, status=item.status.value, channel=item.channel.value)
        await self.conn.execute(insert(S).values(values))

    async def save(self, item: Subscription) -> None:
        values = row_values(S, item, omit=("id",), status=item.status.value, channel=item.channel.value)
        await update_versioned(self.conn, S, item.id, item.version - 1, values, label=f"subscription {item.id}")

    async def delete(self, subscription_id: UUID) -> None:
        """The subscription with its deliveries and their log."""
        deliveries = select(webhook_delivery.c.id).where(webhook_delivery.c.subscription_id == subscription_id)
        await self.conn.execute(delete(webhook_attempt).where(webhook_attempt.c.delivery_id.in_(deliveries)))
        await self.conn.execute(delete(webhook_delivery).where(webhook_delivery.c.subscription_id == subscription_id))
        await self.conn.execute(delete(S).where(S.c.id == subscription_id))

    async def active(self) -> list[Subscription]:
        rows = await self.conn.execute(select(S).where(S.c.status == SubscriptionStatus.ACTIVE.value))
        return [_record(r) for r in rows]


async def get_subscription(conn: AsyncConnection, subscription_id: UUID) -> Subscription | None:
    return await SubscriptionRepository(conn).get(subscription_id)


async def list_subscriptions(
    conn: AsyncConnection, *, status: str | None, limit: int, offset: int
) -> tuple[list[Subscription], int]:
    rows, total = await page(
        conn, where_given(select(S), S, status=status), S.c.created_at, S.c.id, limit=limit, offset=offset
    )
    return [_record(r) for r in rows], total
