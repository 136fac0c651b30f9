"""The outbox relay against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aio_pika
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.incident.store.tables import outbox
from shared.db import create_engine
from shared.events import CloudEvent
from shared.messaging import BrokerConnection, EventPublisher, declare_exchange
from shared.outbox import OutboxRelay, pending_count, write_events
from tests.infra import Servers, create_service_database, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def engine(servers: Servers) -> AsyncIterator[AsyncEngine]:
    url = await create_service_database(servers, "incident", label=f"relay{uuid.uuid4().hex[:6]}")
    engine = create_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def publisher(servers: Servers) -> AsyncIterator[EventPublisher]:
    broker = BrokerConnection(servers.amqp_url, name="relay-test")
    broker.start()
    await asyncio.wait_for(broker.ready.wait(), 10)
    yield EventPublisher(broker, servers.exchange)
    await broker.close()


def _events(kind: str, n: int) -> list[CloudEvent]:
    return [
        CloudEvent(
            source="/itsm/tests",
            type=f"itsm.relaytest.{kind}.v1",
            time=datetime.now(UTC),
            subject=str(i),
            data={"i": i},
        )
        for i in range(n)
    ]


class FailingSink:
    is_connected = True

    async def publish(self, *args: object, **kwargs: object) -> None:
        raise ConnectionError("broker went away")


async def test_two_relays_on_one_outbox_publish_every_event_once(
    servers: Servers, engine: AsyncEngine, publisher: EventPublisher
) -> None:
    kind = f"k{uuid.uuid4().hex[:8]}"
    events = _events(kind, 300)
    async with engine.begin() as conn:
        await write_events(conn, outbox, events)

    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, servers.exchange)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key=f"relaytest.{kind}.v1")
        relays = [OutboxRelay(engine, outbox, publisher, batch_size=25) for _ in range(2)]

        async def drain(relay: OutboxRelay) -> int:
            total = 0
            while (published := (await relay.relay_once())[0]) > 0:
                total += published
            return total

        shares = await asyncio.gather(*(drain(r) for r in relays))
        assert sum(shares) == 300
        assert await pending_count(engine, outbox) == 0

        received: list[str] = []

        async def all_received() -> None:
            while (message := await queue.get(no_ack=True, fail=False, timeout=5)) is not None:
                received.append(str(message.message_id))
            assert len(received) >= 300

        await eventually(all_received)
    assert sorted(received) == sorted(str(e.id) for e in events)  # each once, none twice


async def test_when_publishing_fails_rows_stay_pending_with_the_error_recorded(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await write_events(conn, outbox, _events("failing", 3))
    relay = OutboxRelay(engine, outbox, FailingSink())
    assert await relay.relay_once() == (0, 3)
    assert await pending_count(engine, outbox) == 3
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.attempts, outbox.c.last_error))).all()
    assert {r.attempts for r in rows} == {1}
    assert all("broker went away" in r.last_error for r in rows)


async def test_the_running_relay_is_woken_by_notify_and_drains(
    servers: Servers, engine: AsyncEngine, publisher: EventPublisher
) -> None:
    relay = OutboxRelay(engine, outbox, publisher, poll_interval_s=30)  # only a wake-up can be quick
    relay.start()
    try:
        await asyncio.sleep(0.2)  # the relay is now waiting on its long poll
        async with engine.begin() as conn:
            await write_events(conn, outbox, _events("woken", 5))
        relay.notify()

        async def drained() -> None:
            assert await pending_count(engine, outbox) == 0

        await eventually(drained, within_s=5)
    finally:
        await relay.stop()
