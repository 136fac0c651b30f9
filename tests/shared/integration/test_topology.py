"""The exchange and queue topology on a real RabbitMQ."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel

from shared.messaging import declare_exchange
from tests.infra import Servers, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def channel(servers: Servers) -> AsyncIterator[AbstractChannel]:
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        yield await connection.channel()


async def test_an_event_no_queue_is_bound_to_is_kept_in_the_unrouted_queue(channel: AbstractChannel) -> None:
    # An exchange of its own: on the run's exchange, reporting's queue binds `#` and takes everything.
    name = f"itsm.events.aetest{uuid.uuid4().hex[:8]}"
    exchange = await declare_exchange(channel, name)
    try:
        message_id = str(uuid.uuid4())
        await exchange.publish(aio_pika.Message(b"{}", message_id=message_id), routing_key="nobody.listens.v1")
        unrouted = await channel.get_queue(f"{name}.unrouted")

        async def kept() -> None:
            message = await unrouted.get(no_ack=True, fail=False, timeout=5)
            assert message is not None
            assert message.message_id == message_id

        await eventually(kept)
    finally:
        await channel.queue_delete(f"{name}.unrouted")
        await channel.exchange_delete(name)
        await channel.exchange_delete(f"{name}.unrouted")


async def test_an_existing_exchange_declared_without_the_alternate_is_used_as_it_is(
    channel: AbstractChannel,
) -> None:
    name = f"itsm.events.legacy{uuid.uuid4().hex[:8]}"
    await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=False, auto_delete=True)
    try:
        exchange = await declare_exchange(channel, name)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="#")
        await exchange.publish(aio_pika.Message(b"{}", message_id="m1"), routing_key="a.b.v1")

        async def delivered() -> None:
            message = await queue.get(no_ack=True, fail=False, timeout=5)
            assert message is not None
            assert message.message_id == "m1"

        await eventually(delivered)
    finally:
        await channel.exchange_delete(name)
