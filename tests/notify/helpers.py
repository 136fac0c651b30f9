"""Shared by the notify tests: the service on a database of its own, events consumed as its
consumer does, delivery passes as its periodic job makes them, and subscriptions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.notify import worker
from services.notify.domain.subscriptions import Subscription
from services.notify.settings import NotifySettings
from services.notify.store import tables
from services.notify.usecases import deliveries, subscriptions
from shared.events import CloudEvent
from shared.periodic import JobContext
from shared.uow import UnitOfWork

FAST_RETRIES: dict[str, Any] = {
    "webhook_retry_first_s": 0.05,
    "webhook_retry_max_s": 0.2,
    "webhook_retry_period_s": 120.0,
    "webhook_timeout_s": 5.0,
    "webhook_allow_private_targets": True,
}


def event(routing_key: str, subject: str | None, **data: Any) -> CloudEvent:
    return CloudEvent(
        id=uuid4(),
        source="/itsm/incident",
        type=f"itsm.{routing_key}",
        time=datetime.now(UTC),
        subject=subject,
        dataschema=f"https://itsm.example/schemas/{routing_key}.json",
        data=data,
    )


@dataclass
class Notify:
    engine: AsyncEngine
    url: str
    settings: NotifySettings

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.engine, tables.outbox, source="/itsm/notify", settings=self.settings)

    async def consume(self, *events: CloudEvent) -> None:
        """Each event as the consumer hands it over: one transaction each."""
        for item in events:
            async with self.unit_of_work() as uow:
                await deliveries.on_event(item, uow)
                await uow.commit()

    async def consume_with(self, handler: Callable[[CloudEvent, UnitOfWork], Any], *events: CloudEvent) -> None:
        """Each event through `handler` (the worker's), one transaction each, as the consumer runs it."""
        for item in events:
            async with self.unit_of_work() as uow:
                await handler(item, uow)
                await uow.commit()

    async def deliver(self) -> None:
        """One pass of the worker's webhook-deliveries job, as the periodic runner makes it."""
        await worker.deliver_webhooks(JobContext(self.unit_of_work, self.engine, self.settings, datetime.now(UTC)))

    async def deliver_until(self, done: Callable[[], bool], *, passes: int = 400) -> None:
        """Passes (a short pause between them, for the retry delays) until `done()`."""
        for _ in range(passes):
            await self.deliver()
            if done():
                return
            await asyncio.sleep(0.02)
        raise AssertionError("not done after the passes")

    async def subscribe(self, url: str, pattern: str = "#", **values: Any) -> Subscription:
        cmd = subscriptions.NewSubscription(url=url, event_pattern=pattern, **values)
        return await subscriptions.create_subscription(
            cmd, "ada", self.unit_of_work(), allow_private=self.settings.webhook_allow_private_targets
        )

    async def deliveries_of(self, subscription_id: UUID) -> list[Any]:
        d = tables.webhook_delivery
        async with self.engine.connect() as conn:
            query = select(d).where(d.c.subscription_id == subscription_id).order_by(d.c.seq)
            return list(await conn.execute(query))

    async def attempts_of(self, delivery_id: UUID) -> list[Any]:
        a = tables.webhook_attempt
        async with self.engine.connect() as conn:
            query = select(a).where(a.c.delivery_id == delivery_id).order_by(a.c.attempted_at)
            return list(await conn.execute(query))

    async def published(self) -> list[CloudEvent]:
        async with self.engine.connect() as conn:
            payloads = (await conn.scalars(select(tables.outbox.c.payload).order_by(tables.outbox.c.id))).all()
        return [CloudEvent.model_validate_json(p) for p in payloads]
