"""Operator tools for a service's dead-letter queue: list what is there, replay it."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from shared.messaging import ATTEMPTS_HEADER, ERROR_HEADER, ROUTING_KEY_HEADER, QueueNames, header_int


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    event_type: str | None
    routing_key: str
    attempts: int
    error: str
    body: bytes


def _as_dead_letter(message: AbstractIncomingMessage) -> DeadLetter:
    headers = message.headers or {}
    return DeadLetter(
        message_id=message.message_id,
        event_type=message.type,
        routing_key=str(headers.get(ROUTING_KEY_HEADER, "")),
        attempts=header_int(headers, ATTEMPTS_HEADER),
        error=str(headers.get(ERROR_HEADER, "")),
        body=message.body,
    )


async def list_dead_letters(amqp_url: str, queue_name: str, *, limit: int = 100) -> list[DeadLetter]:
    """Read without removing: messages are held unacknowledged, then returned to the queue."""
    names = QueueNames.for_queue(queue_name)
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.get_queue(names.dead, ensure=True)
        found: list[DeadLetter] = []
        held: list[AbstractIncomingMessage] = []
        while len(found) < limit:
            message = await queue.get(no_ack=False, fail=False, timeout=5)
            if message is None:
                break
            held.append(message)
            found.append(_as_dead_letter(message))
        for message in held:
            await message.nack(requeue=True)
        return found
    finally:
        await connection.close()


async def replay_dead_letters(
    amqp_url: str,
    queue_name: str,
    *,
    message_id: str | None = None,
    replacement_body: bytes | None = None,
    limit: int = 1000,
) -> int:
    """Put dead letters back on the service's queue with a fresh attempt count.

    With `message_id`, only that message; with `replacement_body`, its body is replaced by the
    repaired one. Returns how many were replayed.
    """
    names = QueueNames.for_queue(queue_name)
    replayed = 0
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        queue = await channel.get_queue(names.dead, ensure=True)
        skipped: list[AbstractIncomingMessage] = []
        for _ in range(limit):
            message = await queue.get(no_ack=False, fail=False, timeout=5)
            if message is None:
                break
            if message_id is not None and message.message_id != message_id:
                skipped.append(message)
                continue
            headers = dict(message.headers or {})
            headers.pop(ATTEMPTS_HEADER, None)
            headers.pop(ERROR_HEADER, None)
            await channel.default_exchange.publish(
                aio_pika.Message(
                    replacement_body if replacement_body is not None else message.body,
                    headers=headers,
                    content_type=message.content_type,
                    message_id=message.message_id,
                    type=message.type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=names.main,
                mandatory=True,
            )
            await message.ack()
            replayed += 1
            if message_id is not None:
                break
        for message in skipped:
            await message.nack(requeue=True)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.close(), 5)
    return replayed
