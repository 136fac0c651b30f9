"""The event consumer: each delivery applied once through the inbox, in the service's unit of work,
alone or in batches; a failure is retried, then dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from opentelemetry import trace
from pydantic import ValidationError
from sqlalchemy import Table

from shared import inbox, metrics
from shared.events import CloudEvent, EventData
from shared.messaging.broker import BrokerConnection, bounded_close
from shared.messaging.topology import (
    ATTEMPTS_HEADER,
    ERROR_HEADER,
    ROUTING_KEY_HEADER,
    WAITING_SINCE_HEADER,
    QueueNames,
    declare_service_queues,
    header_int,
)
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[CloudEvent, UnitOfWork], Awaitable[None]]
"""Applies one event inside the consumer's unit of work: its effect, the events it emits and
the inbox row are committed together."""

BatchHandler = Callable[[list[CloudEvent], UnitOfWork], Awaitable[None]]
"""Applies several events (new ones, each once, in delivery order) in one unit of work; opt-in
for consumers whose per-event transaction costs more than their work (see EventConsumer)."""


def data_handlers(
    *routes: tuple[type[EventData], Callable[[Any, UnitOfWork], Awaitable[object]]],
) -> dict[str, Handler]:
    """Handlers for events whose data alone a use case needs: each `(contract, use_case)` pair
    routes the contract's key to a handler that passes the data, read as `contract`, to the use case."""

    def handler(contract: type[EventData], use_case: Callable[[Any, UnitOfWork], Awaitable[object]]) -> Handler:
        async def handle(event: CloudEvent, uow: UnitOfWork) -> None:
            await use_case(event.data_as(contract), uow)

        return handle

    return {contract.routing_key: handler(contract, use_case) for contract, use_case in routes}


class NotYet(Exception):
    """Raised by a handler whose event depends on another that has not been applied here yet (a
    CI retired before its creation arrived, a threshold cleared before its breach): not a failure
    but an order the broker does not keep. The delivery waits in the retry queue and comes back,
    without counting against `max_attempts`, for up to `predecessor_wait_s`, and is dead-lettered
    only after waiting that long."""


@dataclass
class ConsumerStats:
    processed: int = 0
    duplicates: int = 0
    retried: int = 0
    waiting: int = 0
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
        predecessor_wait_s: float = 600.0,
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
        self._predecessor_wait_s = predecessor_wait_s
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
        self._attributes = {"service": consumer_name, "queue": self._names.main}

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
        """Stop taking deliveries, let the ones in hand finish within `drain_timeout_s`; unacked
        ones go back to the queue when the channel closes. Every step with the broker is bounded
        (`CLOSE_TIMEOUT_S`), so a broker that no longer answers cannot hold the process."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._queue is not None and self._tag is not None and self.is_attached:
            await bounded_close(f"consumer {self._consumer_name}: cancelling", self._queue.cancel(self._tag))
        self._tag = None
        try:
            await asyncio.wait_for(self.stats.idle.wait(), drain_timeout_s)
        except TimeoutError:
            log.warning(
                "consumer %s: %d deliveries still in hand after %.0fs; the broker redelivers them",
                self._consumer_name,
                self.stats.in_flight,
                drain_timeout_s,
            )
        if self._channel is not None and not self._channel.is_closed:
            await bounded_close(f"consumer {self._consumer_name}: closing its channel", self._channel.close())

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
        started = time.perf_counter()
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
        self._count_applied(len(fresh), len(parsed) - len(fresh))
        for message, _ in parsed:
            await message.ack()
        self._record(started, "batch")

    def _count_applied(self, processed: int, duplicates: int) -> None:
        self.stats.processed += processed
        self.stats.duplicates += duplicates
        if processed:
            metrics.CONSUMER_PROCESSED.add(processed, self._attributes)
        if duplicates:
            metrics.CONSUMER_DUPLICATES.add(duplicates, self._attributes)

    def _record(self, started: float, outcome: str) -> None:
        metrics.CONSUMER_HANDLING.record(time.perf_counter() - started, {**self._attributes, "outcome": outcome})

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        started = time.perf_counter()
        self._record(started, await self._apply(message))

    async def _apply(self, message: AbstractIncomingMessage) -> str:
        """Apply one delivery; returns the outcome: processed, duplicate, retried, dead_lettered or requeued."""
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
            self._count_applied(1 if fresh else 0, 0 if fresh else 1)
            await message.ack()
            return "processed" if fresh else "duplicate"
        except Exception as exc:
            return await self._fail(message, exc)

    def _next_stop(self, message: AbstractIncomingMessage, exc: Exception) -> tuple[str, dict[str, Any], str]:
        """Where a failed delivery goes (the retry or the dead-letter queue), with which headers,
        and the outcome to count: retried, waiting or dead_lettered."""
        headers: dict[str, Any] = dict(message.headers or {})
        reason = _describe(exc)
        headers.setdefault(ROUTING_KEY_HEADER, message.routing_key or "")
        if isinstance(exc, NotYet):
            now_ms = int(time.time() * 1000)
            since_ms = header_int(headers, WAITING_SINCE_HEADER) or now_ms
            headers[WAITING_SINCE_HEADER] = since_ms
            waited_s = (now_ms - since_ms) / 1000
            headers[ERROR_HEADER] = reason[:1000]
            if waited_s < self._predecessor_wait_s:
                return self._names.retry(self._retry_delay_ms), headers, "waiting"
            headers[ERROR_HEADER] = f"waited {waited_s:.0f}s for what it depends on: {reason}"[:1000]
            return self._names.dead, headers, "dead_lettered"
        attempts = header_int(message.headers, ATTEMPTS_HEADER) + 1
        headers[ATTEMPTS_HEADER] = attempts
        headers[ERROR_HEADER] = reason[:1000]
        if attempts < self._max_attempts:
            return self._names.retry(self._retry_delay_ms), headers, "retried"
        return self._names.dead, headers, "dead_lettered"

    async def _fail(self, message: AbstractIncomingMessage, exc: Exception) -> str:
        target, headers, outcome = self._next_stop(message, exc)
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
            return "requeued"
        await message.ack()
        reason = headers[ERROR_HEADER]
        if outcome == "dead_lettered":
            self.stats.dead_lettered += 1
            metrics.CONSUMER_DEAD_LETTERED.add(1, self._attributes)
            log.error("message %s dead-lettered: %s", message.message_id, reason)
        elif outcome == "waiting":
            self.stats.waiting += 1
            metrics.CONSUMER_WAITING.add(1, self._attributes)
            log.info("message %s waits for an event it depends on: %s", message.message_id, reason)
        else:
            self.stats.retried += 1
            metrics.CONSUMER_RETRIES.add(1, self._attributes)
            log.warning(
                "message %s failed (attempt %d), will retry: %s", message.message_id, headers[ATTEMPTS_HEADER], reason
            )
        return outcome


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "malformed event: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:5]
        )
    return f"{type(exc).__name__}: {exc}"
