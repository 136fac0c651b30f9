"""A server told to stop serves the connections waiting in its listener's accept queue.

The kernel completes a client's handshake before the process accepts it. Closing the listener with
connections still queued resets them, after their clients sent their requests: in a rolling
restart a client could not tell such a reset from a lost request. Here the queue is filled while
the event loop cannot run (the test's own blocking connects), and the shutdown then begins before
the loop could accept any of them."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
import uvicorn

from shared.server import GracefulServer, HeadLimitedProtocol

QUEUED = 5


async def _ok_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _read_to_end(connection: socket.socket) -> bytes:
    loop = asyncio.get_running_loop()
    answer = b""
    try:
        while chunk := await loop.sock_recv(connection, 4096):
            answer += chunk
    except ConnectionResetError:
        return answer + b"<reset>"
    return answer


@pytest.mark.asyncio
async def test_connections_queued_when_the_shutdown_begins_are_answered_not_reset() -> None:
    config = uvicorn.Config(
        _ok_app, host="127.0.0.1", port=0, http=HeadLimitedProtocol, lifespan="off", log_level="warning"
    )
    config.load()
    server = GracefulServer(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup()
    port = server.servers[0].sockets[0].getsockname()[1]

    queued = []
    for _ in range(QUEUED):  # blocking: the loop does not run, so nothing is accepted meanwhile
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client.sendall(b"GET / HTTP/1.1\r\nhost: queued\r\nconnection: close\r\n\r\n")
        client.setblocking(False)
        queued.append(client)
    try:
        answers = [asyncio.create_task(_read_to_end(client)) for client in queued]
        await server.shutdown()
        done = await asyncio.wait_for(asyncio.gather(*answers), timeout=10)
    finally:
        for client in queued:
            client.close()

    assert [answer.split(b"\r\n", 1)[0] for answer in done] == [b"HTTP/1.1 200 OK"] * QUEUED
    assert all(answer.endswith(b"ok") for answer in done)
