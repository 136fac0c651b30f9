"""The consumer against real RabbitMQ and PostgreSQL: draining on stop, and handler failures."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.store.tables import inbox, outbox
from shared.db import create_engine
from shared.events import CloudEvent
from shared.messaging import ERROR_HEADER, BrokerConnection, EventConsumer, NotYet, QueueNames, declare_exchange
from shared.uow import UnitOfWork
from tests.infra import RETRY_DELAY_MS, Servers, create_service_database, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def engine(servers: Servers) -> AsyncIterator[AsyncEngine]:
    url = await create_service_database(servers, "reporting", label=f"consumer{uuid.uuid4().hex[:6]}")
    engine = create_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def broker(servers: Servers) -> AsyncIterator[BrokerConnection]:
    broker = BrokerConnection(servers.amqp_url, name="consumer-test")
    broker.start()
    await asyncio.wait_for(broker.ready.wait(), 10)
    yield broker
    await broker.close()


def _event(key: str) -> CloudEvent:
    return CloudEvent(source="/itsm/tests", type=f"itsm.{key}", time=datetime.now(UTC), subject="s", data={})


async def _publish(servers: Servers, event: CloudEvent) -> None:
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, servers.exchange)
        await exchange.publish(
            aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.id)), routing_key=event.routing_key
        )


async def _processed(engine: AsyncEngine, consumer: str) -> set[str]:
    async with engine.connect() as conn:
        return set((await conn.scalars(select(inbox.c.event_id).where(inbox.c.consumer == consumer))).all())


def _consumer(
    servers: Servers, broker: BrokerConnection, engine: AsyncEngine, name: str, handler: object, **options: Any
) -> EventConsumer:
    key = f"{name}.happened.v1"
    return EventConsumer(
        broker,
        consumer_name=name,
        exchange_name=servers.exchange,
        queue_name=servers.queue_prefix + name,
        handlers={key: handler},  # type: ignore[dict-item]
        unit_of_work=lambda: UnitOfWork(engine, outbox, source="/itsm/tests"),
        inbox_table=inbox,
        max_attempts=2,
        retry_delay_ms=RETRY_DELAY_MS,
        **options,
    )


async def _delete_queues(servers: Servers, name: str) -> None:
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        for suffix in ("", ".dead", f".retry.{RETRY_DELAY_MS}ms"):
            await channel.queue_delete(servers.queue_prefix + name + suffix)


async def test_stopping_lets_the_delivery_in_hand_finish_and_commit(
    servers: Servers, broker: BrokerConnection, engine: AsyncEngine
) -> None:
    name = f"drain{uuid.uuid4().hex[:6]}"
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_handler(event: CloudEvent, uow: UnitOfWork) -> None:
        started.set()
        await release.wait()

    consumer = _consumer(servers, broker, engine, name, slow_handler)
    consumer.start()
    await eventually(lambda: _assert(consumer.is_attached))
    event = _event(f"{name}.happened.v1")
    await _publish(servers, event)
    await asyncio.wait_for(started.wait(), 10)
    stopping = asyncio.create_task(consumer.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()  # waits for the handler
    release.set()
    await asyncio.wait_for(stopping, 10)
    assert await _processed(engine, name) == {str(event.id)}
    assert consumer.stats.processed == 1
    await _delete_queues(servers, name)


async def test_a_failing_handler_rolls_back_its_inbox_row_and_the_event_ends_dead_lettered(
    servers: Servers, broker: BrokerConnection, engine: AsyncEngine
) -> None:
    name = f"failing{uuid.uuid4().hex[:6]}"
    calls = 0

    async def failing_handler(event: CloudEvent, uow: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("downstream said no")

    consumer = _consumer(servers, broker, engine, name, failing_handler)
    consumer.start()
    await eventually(lambda: _assert(consumer.is_attached))
    await _publish(servers, _event(f"{name}.happened.v1"))
    await eventually(lambda: _assert(consumer.stats.dead_lettered == 1))
    assert calls == 2  # max_attempts
    assert consumer.stats.retried == 1
    assert await _processed(engine, name) == set()  # the failed attempts left no inbox row
    await consumer.stop()
    await _delete_queues(servers, name)


async def _assert(condition: bool) -> None:
    assert condition


async def test_batching_applies_each_event_once_and_a_failing_event_alone_goes_to_dead_letters(
    servers: Servers, broker: BrokerConnection, engine: AsyncEngine
) -> None:
    name = f"batch{uuid.uuid4().hex[:6]}"
    key = f"{name}.happened.v1"
    events = [_event(key) for _ in range(40)]
    poison = events[17]
    batches: list[int] = []
    applied: list[str] = []

    async def batch_handler(batch: list[CloudEvent], uow: UnitOfWork) -> None:
        if any(e.id == poison.id for e in batch):
            raise RuntimeError("one event of the batch is refused")
        batches.append(len(batch))
        applied.extend(str(e.id) for e in batch)

    async def one_handler(event: CloudEvent, uow: UnitOfWork) -> None:
        await batch_handler([event], uow)

    consumer = EventConsumer(
        broker,
        consumer_name=name,
        exchange_name=servers.exchange,
        queue_name=servers.queue_prefix + name,
        handlers={key: one_handler},
        unit_of_work=lambda: UnitOfWork(engine, outbox, source="/itsm/tests"),
        inbox_table=inbox,
        max_attempts=2,
        retry_delay_ms=RETRY_DELAY_MS,
        prefetch=50,
        batch_handler=batch_handler,
        batch_size=10,
        batch_wait_s=0.05,
    )
    consumer.start()
    await eventually(lambda: _assert(consumer.is_attached))
    for event in [*events, events[3]]:  # one of them twice
        await _publish(servers, event)
    await eventually(lambda: _assert(consumer.stats.dead_lettered == 1))
    await eventually(lambda: _assert(consumer.stats.processed == 39 and consumer.stats.duplicates == 1))
    assert sorted(applied) == sorted(str(e.id) for e in events if e is not poison)  # each once
    assert max(batches) > 1  # several events per transaction
    assert await _processed(engine, name) == {str(e.id) for e in events if e is not poison}
    await consumer.stop()
    await _delete_queues(servers, name)


async def test_the_metrics_count_applied_duplicates_retries_and_dead_letters_per_queue(
    servers: Servers, broker: BrokerConnection, engine: AsyncEngine
) -> None:
    from prometheus_client import REGISTRY

    name = f"metrics{uuid.uuid4().hex[:6]}"
    labels = {"service": name, "queue": servers.queue_prefix + name}
    good, poison = _event(f"{name}.happened.v1"), _event(f"{name}.happened.v1")

    async def handler(event: CloudEvent, uow: UnitOfWork) -> None:
        if event.id == poison.id:
            raise RuntimeError("refused")

    def counted(metric: str, **extra: str) -> float:
        return REGISTRY.get_sample_value(metric, {**labels, **extra}) or 0

    consumer = _consumer(servers, broker, engine, name, handler)
    consumer.start()
    await eventually(lambda: _assert(consumer.is_attached))
    for event in (good, good, poison):  # the good one twice: the inbox skips the second
        await _publish(servers, event)
    await eventually(lambda: _assert(consumer.stats.dead_lettered == 1 and consumer.stats.duplicates == 1))
    assert counted("itsm_consumer_processed_total") == 1
    assert counted("itsm_consumer_duplicates_total") == 1
    assert counted("itsm_consumer_retries_total") == 1  # max_attempts 2: one retry, then the dead letter
    assert counted("itsm_consumer_dead_lettered_total") == 1
    handled = {
        outcome: counted("itsm_consumer_handling_duration_seconds_count", outcome=outcome)
        for outcome in ("processed", "duplicate", "retried", "dead_lettered")
    }
    assert handled == {"processed": 1, "duplicate": 1, "retried": 1, "dead_lettered": 1}
    await consumer.stop()
    await _delete_queues(servers, name)


async def test_an_event_waiting_for_its_predecessor_comes_back_until_it_is_in_without_spending_attempts(
    servers: Servers, broker: BrokerConnection, engine: AsyncEngine
) -> None:
    """max_attempts is 2: a failure would be dead-lettered at the second call. A `NotYet` is not a
    failure: the event comes back as often as it takes, within the wait, and is applied once."""
    name = f"waits{uuid.uuid4().hex[:6]}"
    calls = 0

    async def handler(event: CloudEvent, uow: UnitOfWork) -> None:
        nonlocal calls
        calls += 1
        if calls <= 6:
            raise NotYet("the event it follows is not in yet")

    consumer = _consumer(servers, broker, engine, name, handler, predecessor_wait_s=60)
    consumer.start()
    await eventually(lambda: _assert(consumer.is_attached))
    event = _event(f"{name}.happened.v1")
    await _publish(servers, event)
    await eventually(lambda: _assert(consumer.stats.processed == 1))
    assert (calls, consumer.stats.waiting, consumer.stats.retried, consumer.stats.dead_lettered) == (7, 6, 0, 0)
    assert await _processed(engine, name) == {str(event.id)}
    await consumer.stop()
    await _delete_queues(servers, name)


async def test_an_event_whose_predecessor_never_comes_is_dead_lettered_after_the_wait_saying_so(
    servers: Servers, broker: BrokerConnection, engine: AsyncEngine
) -> None:
    name = f"waitsout{uuid.uuid4().hex[:6]}"

    async def handler(event: CloudEvent, uow: UnitOfWork) -> None:
        raise NotYet("the CI it retires was never created here")

    consumer = _consumer(servers, broker, engine, name, handler, predecessor_wait_s=0.5)
    consumer.start()
    await eventually(lambda: _assert(consumer.is_attached))
    await _publish(servers, _event(f"{name}.happened.v1"))
    await eventually(lambda: _assert(consumer.stats.dead_lettered == 1))
    assert consumer.stats.waiting >= 3  # came back every 100 ms for half a second
    assert consumer.stats.retried == 0
    await consumer.stop()
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        letter = await (await channel.get_queue(QueueNames.for_queue(servers.queue_prefix + name).dead)).get(timeout=5)
        assert letter is not None
        reason = str((letter.headers or {})[ERROR_HEADER])
        assert reason.startswith("waited ") and "the CI it retires was never created here" in reason
        await letter.ack()
    await _delete_queues(servers, name)
