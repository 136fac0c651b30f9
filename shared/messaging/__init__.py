"""RabbitMQ on aio-pika: the topology, a publisher with confirms, and the consumer.

Topology, per consuming service `svc` (names carry the settings' `queue_prefix`):
- `itsm.events`: the durable topic exchange every service publishes to;
- `svc`: a durable quorum queue bound to the routing keys the service handles;
- `svc.retry.<delay>ms`: a queue whose messages wait `retry_delay_ms`, then dead-letter back to `svc`;
- `svc.dead`: the dead-letter queue, where a message lands after `max_delivery_attempts` failures.

Attempts are counted in the `x-itsm-attempts` header that the consumer controls (the `x-death`
semantics changed across RabbitMQ versions). A quorum `x-delivery-limit` also dead-letters a
message that keeps crashing the consumer process before it can count.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from opentelemetry import trace
from pydantic import ValidationError
from sqlalchemy import Table

from shared import inbox
from shared.events import CONTENT_TYPE, CloudEvent
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-itsm-attempts"
ERROR_HEADER = "x-itsm-error"
ROUTING_KEY_HEADER = "x-itsm-routing-key"
QUORUM_DELIVERY_LIMIT = 20

Handler = Callable[[CloudEvent, UnitOfWork], Awaitable[None]]
"""Applies one event inside the consumer's unit of work: its effect, the events it emits and
the inbox row are committed together."""

BatchHandler = Callable[[list[CloudEvent], UnitOfWork], Awaitable[None]]
"""Applies several events (new ones, each once, in delivery order) in one unit of work; opt-in
for consumers whose per-event transaction costs more than their work (see EventConsumer)."""


@dataclass(frozen=True)
class QueueNames:
    main: str
    dead: str

    @classmethod
    def for_queue(cls, main: str) -> QueueNames:
        return cls(main=main, dead=f"{main}.dead")

    def retry(self, delay_ms: int) -> str:
        # The delay is in the name: a queue's TTL cannot change once declared, so a new delay
        # gets a new queue instead of a PRECONDITION_FAILED at startup.
        return f"{self.main}.retry.{delay_ms}ms"


class BrokerConnection:
    """One robust connection per process, connected in the background so the API starts
    (and keeps accepting writes into the outbox) while the broker is away."""

    def __init__(self, url: str, *, name: str, retry_interval_s: float = 1.0) -> None:
        self._url = url
        self._name = name
        self._retry_interval_s = retry_interval_s
        self.connection: AbstractRobustConnection | None = None
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def is_connected(self) -> bool:
        return self.connection is not None and self.connection.connected.is_set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_forever(), name=f"amqp-connect-{self._name}")

    async def _connect_forever(self) -> None:
        while self.connection is None:
            try:
                self.connection = await aio_pika.connect_robust(
                    self._url,
                    client_properties={"connection_name": self._name},
                    reconnect_interval=self._retry_interval_s,
                )
            except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as exc:
                log.warning("broker not reachable (%s); retrying in %.1fs", exc, self._retry_interval_s)
                await asyncio.sleep(self._retry_interval_s)
        self.ready.set()

    async def channel(self, *, confirms: bool = True) -> AbstractChannel:
        await self.ready.wait()
        assert self.connection is not None
        return await self.connection.channel(publisher_confirms=confirms, on_return_raises=True)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.connection is not None:
            await self.connection.close()
        self.ready.clear()


class EventPublisher:
    """Publishes CloudEvents to the topic exchange with publisher confirms and `mandatory`."""

    def __init__(self, broker: BrokerConnection, exchange_name: str, *, timeout_s: float = 5.0) -> None:
        self._broker = broker
        self._exchange_name = exchange_name
        self._timeout_s = timeout_s
        self._channel: AbstractChannel | None = None  # strong references: robust objects are weak
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()

    @property
    def is_connected(self) -> bool:
        return self._broker.is_connected

    async def _get_exchange(self) -> AbstractExchange:
        if self._exchange is None or self._channel is None or self._channel.is_closed:
            async with self._lock:
                if self._exchange is None or self._channel is None or self._channel.is_closed:
                    self._channel = await self._broker.channel(confirms=True)
                    self._exchange = await declare_exchange(self._channel, self._exchange_name)
        assert self._exchange is not None
        return self._exchange

    async def publish(
        self, routing_key: str, body: bytes, *, message_id: str, event_type: str, headers: dict[str, str]
    ) -> None:
        exchange = await asyncio.wait_for(self._get_exchange(), self._timeout_s)
        message = aio_pika.Message(
            body,
            content_type=CONTENT_TYPE,
            message_id=message_id,
            type=event_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers=dict(headers),
        )
        # Unroutable raises (on_return_raises); a nack raises DeliveryError; silence is a timeout.
        await exchange.publish(message, routing_key=routing_key, mandatory=True, timeout=self._timeout_s)

    async def publish_event(self, event: CloudEvent) -> None:
        await self.publish(
            event.routing_key,
            event.model_dump_json().encode(),
            message_id=str(event.id),
            event_type=event.type,
            headers={},
        )


async def declare_exchange(channel: AbstractChannel, name: str) -> AbstractExchange:
    """The topic exchange, with an alternate exchange that keeps events no queue is bound to
    (in `<name>.unrouted`) instead of dropping them or failing the publish.

    An exchange's arguments cannot change once it exists: one declared earlier without the
    alternate exchange (by an older version, or another tool) is used as it is, with a warning,
    rather than failing every start with PRECONDITION_FAILED.
    """
    if await _exchange_exists(channel, name):
        exchange = await channel.get_exchange(name, ensure=False)
        if not await _exchange_exists(channel, f"{name}.unrouted"):
            log.warning("exchange %s has no alternate exchange: events no queue is bound to are dropped", name)
        return exchange
    unrouted = f"{name}.unrouted"
    alternate = await channel.declare_exchange(unrouted, aio_pika.ExchangeType.FANOUT, durable=True)
    queue = await channel.declare_queue(unrouted, durable=True, arguments={"x-queue-type": "quorum"})
    await queue.bind(alternate)
    return await channel.declare_exchange(
        name, aio_pika.ExchangeType.TOPIC, durable=True, arguments={"alternate-exchange": unrouted}
    )


async def _exchange_exists(channel: AbstractChannel, name: str) -> bool:
    # A passive declare that fails closes its channel, so ask on a throwaway one.
    connection = (await channel.get_underlay_channel()).connection
    probe = await connection.channel()
    try:
        await probe.exchange_declare(name, passive=True)
        return True
    except aiormq.exceptions.ChannelNotFoundEntity:
        return False
    finally:
        if not probe.is_closed:
            await probe.close()


async def declare_service_queues(
    channel: AbstractChannel,
    *,
    exchange_name: str,
    queue_name: str,
    binding_keys: list[str],
    retry_delay_ms: int,
) -> AbstractQueue:
    """Declare the service's queue, its retry and dead-letter queues, and the bindings."""
    names = QueueNames.for_queue(queue_name)
    exchange = await declare_exchange(channel, exchange_name)
    await channel.declare_queue(names.dead, durable=True, arguments={"x-queue-type": "quorum"})
    # Classic queue: message TTL on quorum queues needs RabbitMQ 3.10+ and brings nothing here.
    await channel.declare_queue(
        names.retry(retry_delay_ms),
        durable=True,
        arguments={
            "x-message-ttl": retry_delay_ms,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": names.main,
        },
    )
    queue = await channel.declare_queue(
        names.main,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": QUORUM_DELIVERY_LIMIT,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": names.dead,
        },
    )
    for key in binding_keys:
        await queue.bind(exchange, routing_key=key)
    return queue


@dataclass
class ConsumerStats:
    processed: int = 0
    duplicates: int = 0
    retried: int = 0
    dead_lettered: int = 0
    in_flight: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)


class EventConsumer:
    """Consumes the service's queue; each event is applied once, in one transaction with its inbox row.

    Batching (opt-in: a `batch_handler` and `batch_size` > 1): deliveries are collected, up to
    `batch_size` or what arrived within `batch_wait_s` (and while the previous batch was being
    written), then handled in one transaction: the inbox rows of the whole batch are claimed in one
    statement, the batch handler gets the events not seen before, the transaction commits, and
    only then is each delivery acknowledged (at-least-once as before; a crash before the commit
    redelivers them all and the inbox skips none twice). A malformed message is retried or
    dead-lettered on its own; when a batch fails, its events are handled again one by one through
    the per-event handlers, so only the failing one goes to retry and dead letters. `prefetch`
    must be at least `batch_size`. Batches are written one at a time.
    """

    def __init__(
        self,
        broker: BrokerConnection,
        *,
        consumer_name: str,
        exchange_name: str,
        queue_name: str,
        handlers: Mapping[str, Handler],
        unit_of_work: Callable[[], UnitOfWork],
        inbox_table: Table,
        prefetch: int = 32,
        max_attempts: int = 5,
        retry_delay_ms: int = 2000,
        batch_handler: BatchHandler | None = None,
        batch_size: int = 1,
        batch_wait_s: float = 0.005,
    ) -> None:
        self._broker = broker
        self._consumer_name = consumer_name
        self._exchange_name = exchange_name
        self._names = QueueNames.for_queue(queue_name)
        self._handlers = dict(handlers)
        self._unit_of_work = unit_of_work
        self._inbox = inbox_table
        self._prefetch = prefetch
        self._max_attempts = max_attempts
        self._retry_delay_ms = retry_delay_ms
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._batch_handler = batch_handler if batch_size > 1 else None
        self._batch_size = batch_size
        self._batch_wait_s = batch_wait_s
        self._pending: list[AbstractIncomingMessage] = []
        self._flusher: asyncio.Task[None] | None = None
        self.stats = ConsumerStats()
        self.stats.idle.set()

    @property
    def binding_keys(self) -> list[str]:
        return sorted(self._handlers)

    @property
    def is_attached(self) -> bool:
        return (
            self._tag is not None
            and self._channel is not None
            and not self._channel.is_closed
            and self._broker.is_connected
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self._attach(), name=f"consumer-{self._consumer_name}")

    async def _attach(self) -> None:
        while True:
            try:
                self._channel = await self._broker.channel(confirms=True)
                await self._channel.set_qos(prefetch_count=self._prefetch)
                self._queue = await declare_service_queues(
                    self._channel,
                    exchange_name=self._exchange_name,
                    queue_name=self._names.main,
                    binding_keys=self.binding_keys,
                    retry_delay_ms=self._retry_delay_ms,
                )
                # Queue.consume (not an iterator) is what the aio-pika instrumentation traces.
                self._tag = await self._queue.consume(self._on_message)
                return
            except (aio_pika.exceptions.AMQPError, OSError, RuntimeError) as exc:
                log.warning("consumer %s could not attach (%s); retrying", self._consumer_name, exc)
                await asyncio.sleep(1.0)

    async def stop(self, drain_timeout_s: float = 10.0) -> None:
        """Stop taking deliveries, let the ones in hand finish; unacked ones go back to the queue."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._queue is not None and self._tag is not None and self.is_attached:
            with contextlib.suppress(Exception):
                await self._queue.cancel(self._tag)
        self._tag = None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stats.idle.wait(), drain_timeout_s)
        if self._channel is not None and not self._channel.is_closed:
            await self._channel.close()

    def _handler_for(self, routing_key: str) -> Handler | None:
        return self._handlers.get(routing_key) or self._handlers.get("#")

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self.stats.in_flight += 1
        self.stats.idle.clear()
        if self._batch_handler is not None:
            self._pending.append(message)
            if self._flusher is None or self._flusher.done():
                self._flusher = asyncio.create_task(self._flush(), name=f"consumer-batch-{self._consumer_name}")
            return
        try:
            await self._handle(message)
        finally:
            self._finished(1)

    def _finished(self, count: int) -> None:
        self.stats.in_flight -= count
        if self.stats.in_flight == 0:
            self.stats.idle.set()

    async def _flush(self) -> None:
        """Write batches until nothing is pending (one flusher at a time)."""
        while self._pending:
            if len(self._pending) < self._batch_size:
                await asyncio.sleep(self._batch_wait_s)  # let a batch form
            batch, self._pending = self._pending[: self._batch_size], self._pending[self._batch_size :]
            try:
                await self._handle_batch(batch)
            except Exception:
                log.exception("consumer %s could not handle a batch; it will be redelivered", self._consumer_name)
                for message in batch:
                    with contextlib.suppress(Exception):
                        await message.nack(requeue=True)
            finally:
                self._finished(len(batch))

    async def _handle_batch(self, batch: list[AbstractIncomingMessage]) -> None:
        assert self._batch_handler is not None
        parsed: list[tuple[AbstractIncomingMessage, CloudEvent]] = []
        for message in batch:
            try:
                parsed.append((message, CloudEvent.model_validate_json(message.body)))
            except Exception as exc:
                await self._fail(message, exc)
        if not parsed:
            return
        unique: dict[str, CloudEvent] = {}
        for _, event in parsed:
            unique.setdefault(str(event.id), event)
        try:
            async with self._unit_of_work() as uow:
                fresh_ids = await inbox.claim_many(
                    uow.connection,
                    self._inbox,
                    consumer=self._consumer_name,
                    events=[(event_id, event.type) for event_id, event in unique.items()],
                )
                fresh = [event for event_id, event in unique.items() if event_id in fresh_ids]
                if fresh:
                    await self._batch_handler(fresh, uow)
                await uow.commit()
        except Exception as exc:
            log.warning(
                "consumer %s: a batch of %d failed (%s); handling its events one by one",
                self._consumer_name,
                len(parsed),
                _describe(exc),
            )
            for message, _ in parsed:
                await self._handle(message)
            return
        self.stats.processed += len(fresh)
        self.stats.duplicates += len(parsed) - len(fresh)
        for message, _ in parsed:
            await message.ack()

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        try:
            event = CloudEvent.model_validate_json(message.body)
            span = trace.get_current_span()
            span.set_attribute("cloudevents.event_id", str(event.id))
            span.set_attribute("cloudevents.event_type", event.type)
            handler = self._handler_for(event.routing_key)
            if handler is None:
                raise LookupError(f"no handler for {event.routing_key}")
            async with self._unit_of_work() as uow:
                fresh = await inbox.claim(
                    uow.connection,
                    self._inbox,
                    consumer=self._consumer_name,
                    event_id=str(event.id),
                    event_type=event.type,
                )
                if fresh:
                    await handler(event, uow)
                    await uow.commit()
            if fresh:
                self.stats.processed += 1
            else:
                self.stats.duplicates += 1
            await message.ack()
        except Exception as exc:
            await self._fail(message, exc)

    async def _fail(self, message: AbstractIncomingMessage, exc: Exception) -> None:
        attempts = header_int(message.headers, ATTEMPTS_HEADER) + 1
        reason = _describe(exc)
        headers: dict[str, Any] = dict(message.headers or {})
        headers[ATTEMPTS_HEADER] = attempts
        headers[ERROR_HEADER] = reason[:1000]
        headers.setdefault(ROUTING_KEY_HEADER, message.routing_key or "")
        target = self._names.retry(self._retry_delay_ms) if attempts < self._max_attempts else self._names.dead
        try:
            assert self._channel is not None
            await self._channel.default_exchange.publish(
                aio_pika.Message(
                    message.body,
                    headers=headers,
                    content_type=message.content_type,
                    message_id=message.message_id,
                    type=message.type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=target,
                mandatory=True,
            )
        except Exception:
            # Could not park it: leave it to the broker (requeue) rather than lose it.
            log.exception("could not move a failed message to %s; requeueing", target)
            await message.nack(requeue=True)
            return
        await message.ack()
        if target == self._names.dead:
            self.stats.dead_lettered += 1
            log.error("message %s dead-lettered after %d attempts: %s", message.message_id, attempts, reason)
        else:
            self.stats.retried += 1
            log.warning("message %s failed (attempt %d), will retry: %s", message.message_id, attempts, reason)


def header_int(headers: Mapping[str, Any] | None, name: str) -> int:
    value = (headers or {}).get(name)
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "malformed event: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:5]
        )
    return f"{type(exc).__name__}: {exc}"
