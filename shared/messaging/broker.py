"""The process's connection to RabbitMQ (made in the background) and the event publisher on it,
with publisher confirms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import cast

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection, FieldValue
from aio_pika.connection import make_url
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from shared.events import CONTENT_TYPE, CloudEvent
from shared.messaging.topology import declare_exchange

log = logging.getLogger(__name__)
_TRACER = trace.get_tracer(__name__)

CLOSE_TIMEOUT_S = 2.0
"""The bound on each closing handshake with the broker (a consumer's cancel, a channel's or the
connection's close). A broker that stopped answering without closing the TCP connection (a
network partition, a paused or wedged broker) never answers them: unbounded, they held a
stopping process until the heartbeat gave up on the connection, minutes later."""


async def bounded_close(what: str, step: Awaitable[object]) -> None:
    """Await one closing handshake within `CLOSE_TIMEOUT_S`; an error or silence is logged, not raised:
    the process is going away, and what the broker still holds (unacked deliveries) it requeues."""
    try:
        await asyncio.wait_for(step, CLOSE_TIMEOUT_S)
    except TimeoutError:
        log.warning("%s: no answer from the broker within %.0fs; going on without it", what, CLOSE_TIMEOUT_S)
    except Exception as exc:
        log.warning("%s failed (%s); going on", what, exc)


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
            # Made here rather than by `aio_pika.connect_robust`, to hold it while it connects:
            # a robust connection whose first connect is cancelled (the process stopping before
            # the broker answered) goes on reconnecting on its own, ignores the cancellation of
            # its task, and so keeps the process from ever exiting, unless it is closed.
            connecting = aio_pika.RobustConnection(
                make_url(self._url, reconnect_interval=self._retry_interval_s),
                client_properties={"connection_name": self._name},
            )
            try:
                await connecting.connect()
            except asyncio.CancelledError:
                await connecting.close()
                raise
            except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as exc:
                await connecting.close()
                log.warning("broker not reachable (%s); retrying in %.1fs", exc, self._retry_interval_s)
                await asyncio.sleep(self._retry_interval_s)
            else:
                self.connection = connecting
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
            # `close` first marks the connection closed, so a robust one stops reconnecting even
            # when the handshake is cut short.
            await bounded_close("closing the broker connection", self.connection.close())
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
        """Publish one message and wait for the broker's confirm. Publishes awaited side by side are
        pipelined: each is handed to the connection's writer without waiting for its frames to be
        written (aio-pika's `Exchange.publish` holds the channel until they are, a turn of the event
        loop per message), so many are in flight at once, confirmed as the broker acknowledges them.
        The producer span (kind PRODUCER, as the aio-pika instrumentation makes it) is this one's,
        and its context travels in the message headers."""
        if self._exchange is None or self._channel is None or self._channel.is_closed:
            await asyncio.wait_for(self._get_exchange(), self._timeout_s)
        assert self._exchange is not None and self._channel is not None
        attributes = {"messaging.system": "rabbitmq", "messaging.destination": f"{self._exchange_name},{routing_key}"}
        attributes["messaging.message_id"] = message_id
        span_name = f"{self._exchange_name},{routing_key} send"
        with _TRACER.start_as_current_span(span_name, kind=SpanKind.PRODUCER, attributes=attributes):
            carried: dict[str, str] = dict(headers)
            propagate.inject(carried)
            message = aio_pika.Message(
                body,
                content_type=CONTENT_TYPE,
                message_id=message_id,
                type=event_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers=dict[str, FieldValue](carried),
            )
            channel = cast(aiormq.Channel, await self._channel.get_underlay_channel())  # it takes `wait`
            # Unroutable raises (on_return_raises); a nack raises DeliveryError; silence is a timeout.
            await channel.basic_publish(
                body,
                exchange=self._exchange.name,
                routing_key=routing_key,
                properties=message.properties,
                mandatory=True,
                timeout=self._timeout_s,
                wait=False,
            )

    async def publish_event(self, event: CloudEvent) -> None:
        await self.publish(
            event.routing_key,
            event.model_dump_json().encode(),
            message_id=str(event.id),
            event_type=event.type,
            headers={},
        )
