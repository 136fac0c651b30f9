"""The RabbitMQ topology: the topic exchange, a service's queue with its retry and dead-letter
queues, and the headers a failed message carries between them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-itsm-attempts"
ERROR_HEADER = "x-itsm-error"
ROUTING_KEY_HEADER = "x-itsm-routing-key"
WAITING_SINCE_HEADER = "x-itsm-waiting-since-ms"
"""When a delivery was first found to wait for another event (`NotYet`), in ms since the epoch."""
QUORUM_DELIVERY_LIMIT = 20


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


def header_int(headers: Mapping[str, Any] | None, name: str) -> int:
    value = (headers or {}).get(name)
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0
