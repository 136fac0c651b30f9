"""Every event type, as it leaves the suite, is one the official CloudEvents SDK accepts.

One event of every registered contract, its data generated from the contract's model, is built
by the suite's envelope code, written to an outbox and published by the relay on the run's
exchange; a queue of this test's own takes them from the broker, and the SDK's RabbitMQ binding
(`from_rabbitmq_event`) parses each. The `dataschema` it reads is the URI of the contract's
published JSON Schema, and the data is valid against that schema.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aio_pika
import jsonschema
import pytest
from cloudevents.core.bindings.rabbitmq import RabbitMQMessage, from_rabbitmq_event
from cloudevents.core.v1.event import CloudEvent as SdkEvent
from polyfactory.factories.pydantic_factory import ModelFactory
from sqlalchemy.ext.asyncio import AsyncEngine

from services.incident.store.tables import outbox
from shared.db import create_engine
from shared.events import EVENT_TYPES, EventData, new_event
from shared.events.catalogue import all_schemas
from shared.messaging import BrokerConnection, EventPublisher, declare_exchange
from shared.outbox import OutboxRelay, write_events
from tests.infra import Servers, create_service_database

pytestmark = pytest.mark.asyncio(loop_scope="session")


def example_data(contract: type[EventData]) -> EventData:
    factory = ModelFactory.create_factory(contract, __random_seed__=20)
    example: EventData = factory.build()
    return example


@pytest.fixture
async def engine(servers: Servers) -> AsyncIterator[AsyncEngine]:
    url = await create_service_database(servers, "incident", label=f"sdk{uuid.uuid4().hex[:6]}")
    engine = create_engine(url)
    yield engine
    await engine.dispose()


async def published_messages(servers: Servers, engine: AsyncEngine) -> dict[str, RabbitMQMessage]:
    """One event of every type through the outbox and relay; what the broker delivered, by type."""
    events = [
        new_event(example_data(contract), source="/itsm/contract-test", subject=str(uuid.uuid4()))
        for contract in EVENT_TYPES.values()
    ]
    broker = BrokerConnection(servers.amqp_url, name="cloudevents-sdk-test")
    broker.start()
    connection = await aio_pika.connect(servers.amqp_url)
    try:
        await asyncio.wait_for(broker.ready.wait(), 10)
        channel = await connection.channel()
        exchange = await declare_exchange(channel, servers.exchange)
        queue = await channel.declare_queue(exclusive=True)
        for key in EVENT_TYPES:
            await queue.bind(exchange, routing_key=key)
        async with engine.begin() as conn:
            await write_events(conn, outbox, events)
        relay = OutboxRelay(engine, outbox, EventPublisher(broker, servers.exchange), batch_size=len(events))
        assert await relay.relay_once() == (len(events), 0)
        wanted = {str(e.id) for e in events}
        received: dict[str, RabbitMQMessage] = {}
        while len(received) < len(events):
            message = await queue.get(no_ack=True, timeout=10)
            if message.message_id in wanted:
                headers = {k: str(v) for k, v in (message.headers or {}).items()}
                received[str(message.type)] = RabbitMQMessage(headers, message.content_type, message.body)
        return received
    finally:
        await connection.close()
        await broker.close()


async def test_the_sdk_parses_one_event_of_every_type_taken_from_the_broker(
    servers: Servers, engine: AsyncEngine
) -> None:
    messages = await published_messages(servers, engine)
    schemas = all_schemas()
    assert set(messages) == {contract.event_type() for contract in EVENT_TYPES.values()}
    for event_type, message in messages.items():
        event = from_rabbitmq_event(message)
        assert isinstance(event, SdkEvent)
        assert event.get_type() == event_type
        routing_key = event_type.removeprefix("itsm.")
        assert event.get_dataschema() == schemas[routing_key]["$id"], event_type
        data = event.get_data()
        assert isinstance(data, dict)
        jsonschema.validate(data, schemas[routing_key])
