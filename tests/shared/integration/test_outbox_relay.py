"""The outbox relay against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aio_pika
import pytest
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq_event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.incident.store.tables import outbox
from shared.db import create_engine
from shared.events import CloudEvent
from shared.messaging import EventPublisher, declare_exchange
from shared.outbox import OutboxRelay, pending_count, write_events
from tests.infra import Servers, create_service_database, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def engine(servers: Servers) -> AsyncIterator[AsyncEngine]:
    url = await create_service_database(servers, "incident", label=f"relay{uuid.uuid4().hex[:6]}")
    engine = create_engine(url)
    yield engine
    await engine.dispose()


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


async def test_a_row_stored_with_null_attributes_by_an_earlier_version_goes_out_as_the_sdk_reads_it(
    servers: Servers, engine: AsyncEngine, publisher: EventPublisher
) -> None:
    event_id = str(uuid.uuid4())
    # What the outbox held before unset attributes were left out and dataschema was filled.
    stored = (
        f'{{"specversion":"1.0","id":"{event_id}","source":"/itsm/incident","type":"itsm.incident.closed.v1",'
        '"time":"2026-01-01T00:00:00Z","subject":null,"datacontenttype":"application/json","dataschema":null,'
        f'"data":{{"incident_id":"{uuid.uuid4()}","number":"INC0000009","closed_at":"2026-01-01T00:00:00Z",'
        '"note":null}}'
    )
    async with engine.begin() as conn:
        await conn.execute(
            outbox.insert().values(
                event_id=event_id,
                event_type="itsm.incident.closed.v1",
                routing_key="incident.closed.v1",
                payload=stored,
            )
        )
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(await declare_exchange(channel, servers.exchange), routing_key="incident.closed.v1")
        assert await OutboxRelay(engine, outbox, publisher).relay_once() == (1, 0)
        message = await queue.get(no_ack=True, timeout=10)
    assert message.message_id == event_id
    sdk_event = from_rabbitmq_event(RabbitMQMessage({}, message.content_type, message.body))
    assert sdk_event.get_dataschema() == "https://itsm.example/schemas/incident.closed.v1.json"
    assert sdk_event.get_subject() is None
    assert json.loads(message.body)["data"]["note"] is None
