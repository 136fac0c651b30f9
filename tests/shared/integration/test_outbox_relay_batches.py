"""The outbox relay publishes a batch with many messages in flight, against real PostgreSQL and
RabbitMQ, and keeps each subject's rows in the order they were written: through a failed publish,
a row claimed elsewhere, and a broker that goes away in the middle of a batch."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aio_pika
import pytest
from aio_pika.abc import AbstractQueue
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.incident.store.tables import outbox
from shared.db import create_engine
from shared.events import CloudEvent
from shared.messaging import BrokerConnection, EventPublisher, declare_exchange
from shared.outbox import OutboxRelay, pending_count, write_events
from tests.infra import Servers, create_service_database, eventually
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def database(servers: Servers) -> AsyncIterator[AsyncEngine]:
    url = await create_service_database(servers, "incident", label=f"batches{uuid.uuid4().hex[:6]}")
    engine = create_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def engine(database: AsyncEngine) -> AsyncEngine:
    """The module's database, with an empty outbox."""
    async with database.begin() as conn:
        await conn.execute(delete(outbox))
    return database


@pytest.fixture
async def kind() -> str:
    return f"b{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def queue(servers: Servers, kind: str) -> AsyncIterator[AbstractQueue]:
    """A queue of the test's own bound to the test's events, on a connection that is not cut."""
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(await declare_exchange(channel, servers.exchange), routing_key=f"relaytest.{kind}.v1")
        yield queue


def _events(kind: str, subjects: int, per_subject: int) -> list[CloudEvent]:
    """Rows written round-robin over the subjects, so that each subject's rows interleave with others'."""
    return [
        CloudEvent(
            source="/itsm/tests",
            type=f"itsm.relaytest.{kind}.v1",
            time=datetime.now(UTC),
            subject=f"s{s}",
            data={"n": n},
        )
        for n in range(per_subject)
        for s in range(subjects)
    ]


class Nacked(Exception):
    """Stands for what a nack raises (aio-pika's DeliveryError)."""


class Watched:
    """The real publisher, counting the publishes in flight at once; it can fail chosen events once
    and run a step before a chosen publish."""

    def __init__(self, inner: EventPublisher, *, fail: set[str] = frozenset(), before: dict[int, object] | None = None):
        self._inner = inner
        self._fail = set(fail)
        self._before = before or {}
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0

    @property
    def is_connected(self) -> bool:
        return self._inner.is_connected

    async def publish(self, routing_key: str, body: bytes, *, message_id: str, **kwargs: object) -> None:
        self.calls += 1
        step = self._before.get(self.calls)
        if step is not None:
            await step()  # type: ignore[operator]
        if message_id in self._fail:
            self._fail.discard(message_id)
            raise Nacked(f"the broker refused {message_id}")
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self._inner.publish(routing_key, body, message_id=message_id, **kwargs)  # type: ignore[arg-type]
        finally:
            self.in_flight -= 1


async def _received(queue: AbstractQueue, at_least: int) -> list[str]:
    received: list[str] = []

    async def enough() -> None:
        while (message := await queue.get(no_ack=True, fail=False, timeout=5)) is not None:
            received.append(str(message.message_id))
        assert len(set(received)) >= at_least

    await eventually(enough)
    return received


def _first_seen_per_subject(received: list[str], events: list[CloudEvent]) -> dict[str | None, list[str]]:
    subject_of = {str(e.id): e.subject for e in events}
    order: dict[str | None, list[str]] = {}
    for event_id in dict.fromkeys(received):  # first occurrences, in arrival order
        order.setdefault(subject_of[event_id], []).append(event_id)
    return order


def _written_per_subject(events: list[CloudEvent]) -> dict[str | None, list[str]]:
    order: dict[str | None, list[str]] = {}
    for e in events:
        order.setdefault(e.subject, []).append(str(e.id))
    return order


async def test_a_batch_goes_out_with_many_in_flight_every_row_confirmed_and_each_subject_in_order(
    engine: AsyncEngine, publisher: EventPublisher, queue: AbstractQueue, kind: str
) -> None:
    events = _events(kind, subjects=40, per_subject=3)
    async with engine.begin() as conn:
        await write_events(conn, outbox, events)
    watched = Watched(publisher)
    assert await OutboxRelay(engine, outbox, watched, batch_size=500).relay_once() == (120, 0)
    assert await pending_count(engine, outbox) == 0
    assert watched.most_in_flight > 1, "publishes wait for each other's confirms"
    assert watched.most_in_flight <= 40, "a subject had two rows in flight at once"
    received = await _received(queue, 120)
    assert sorted(received) == sorted(str(e.id) for e in events)
    assert _first_seen_per_subject(received, events) == _written_per_subject(events)


async def test_a_failed_row_holds_back_the_later_rows_of_its_subject_and_they_follow_it(
    engine: AsyncEngine, publisher: EventPublisher, queue: AbstractQueue, kind: str
) -> None:
    events = _events(kind, subjects=10, per_subject=4)
    s0 = [e for e in events if e.subject == "s0"]
    async with engine.begin() as conn:
        await write_events(conn, outbox, events)
    relay = OutboxRelay(engine, outbox, Watched(publisher, fail={str(s0[1].id)}), batch_size=500)

    assert await relay.relay_once() == (37, 1)  # s0's first row, and the other subjects' 36
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.subject == "s0").order_by(outbox.c.id))).all()
    assert [r.published_at is not None for r in rows] == [True, False, False, False]
    assert [r.attempts for r in rows] == [0, 1, 0, 0]
    assert "Nacked" in rows[1].last_error and rows[2].last_error is None

    assert await relay.relay_once() == (3, 0)
    received = await _received(queue, 40)
    assert _first_seen_per_subject(received, events) == _written_per_subject(events)


async def test_a_row_of_the_subject_claimed_elsewhere_holds_back_the_later_ones(
    engine: AsyncEngine, publisher: EventPublisher, queue: AbstractQueue, kind: str
) -> None:
    events = _events(kind, subjects=2, per_subject=2)  # s0, s1, s0, s1
    async with engine.begin() as conn:
        await write_events(conn, outbox, events)
    relay = OutboxRelay(engine, outbox, publisher, batch_size=500)
    async with engine.begin() as other:  # another replica holds s0's first row
        first = select(outbox.c.id).where(outbox.c.event_id == str(events[0].id)).with_for_update()
        await other.execute(first)
        assert await relay.relay_once() == (2, 0)  # both of s1's; s0's second waits
        async with engine.connect() as conn:
            still = set((await conn.scalars(select(outbox.c.event_id).where(outbox.c.published_at.is_(None)))).all())
        assert still == {str(events[0].id), str(events[2].id)}
    assert await relay.relay_once() == (2, 0)
    received = await _received(queue, 4)
    assert _first_seen_per_subject(received, events) == _written_per_subject(events)


async def test_the_broker_going_away_in_the_middle_of_a_batch_loses_nothing_and_keeps_each_subject_in_order(
    servers: Servers, engine: AsyncEngine, queue: AbstractQueue, kind: str
) -> None:
    proxy = TcpProxy.to_broker(servers.amqp_url)
    await proxy.start()
    broker = BrokerConnection(proxy.url_for(servers.amqp_url), name="relay-cut-test", retry_interval_s=0.2)
    broker.start()
    try:
        await asyncio.wait_for(broker.ready.wait(), 10)
        events = _events(kind, subjects=20, per_subject=5)
        async with engine.begin() as conn:
            await write_events(conn, outbox, events)
        watched = Watched(EventPublisher(broker, servers.exchange, timeout_s=2), before={30: proxy.cut})
        relay = OutboxRelay(engine, outbox, watched, batch_size=500)
        published, failed = await relay.relay_once()
        assert failed > 0 and published < 100
        assert await pending_count(engine, outbox) == 100 - published
        await proxy.start()

        async def drained() -> None:
            if broker.is_connected:
                await relay.relay_once()
            assert await pending_count(engine, outbox) == 0

        await eventually(drained, within_s=30, interval=0.2)
        received = await _received(queue, 100)
        assert set(received) == {str(e.id) for e in events}  # at least once each
        assert _first_seen_per_subject(received, events) == _written_per_subject(events)
    finally:
        await broker.close()
        await proxy.cut()
