"""A real webhook receiver for the notify tests: a small ASGI app served by uvicorn on a free port
of 127.0.0.1, in the test's event loop. It verifies every delivery with the `standardwebhooks`
package (not the suite's code) and parses it with the CloudEvents SDK's HTTP binding.

A path in `chat` plays Slack's or Teams' incoming webhook instead: it takes plain JSON (kept with
the delivery) and answers by its script. Per other path: the secrets it holds (a delivery is
verified with each one on its own; it is accepted when one verifies it, and `verified_with` says
which did) and a script of statuses for verified deliveries, in order (the last one repeats; no
script: 200). A delivery that no secret verifies is refused with 401 and kept in `refused`.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from cloudevents.core.bindings.http import HTTPMessage, from_structured_event
from cloudevents.core.v1.event import CloudEvent as SdkEvent
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.requests import Request
from starlette.responses import PlainTextResponse


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    verified_with: list[str] = field(default_factory=list)
    event: SdkEvent | None = None

    @property
    def event_id(self) -> str:
        assert self.event is not None
        return str(self.event.get_id())

    @property
    def subject(self) -> str | None:
        assert self.event is not None
        subject: str | None = self.event.get_subject()
        return subject


@dataclass
class Receiver:
    base_url: str
    secrets: dict[str, list[str]] = field(default_factory=dict)
    scripts: dict[str, list[int]] = field(default_factory=dict)
    answered: list[Delivery] = field(default_factory=list)
    refused: list[Delivery] = field(default_factory=list)
    chat: set[str] = field(default_factory=set)
    """Paths that play a chat tool's incoming webhook: plain JSON, no signature to verify."""

    def url(self, path: str) -> str:
        return self.base_url + path

    def accepted(self, path: str) -> list[Delivery]:
        """The deliveries to `path` that were verified and answered 2xx, in arrival order."""
        return [d for d in self.answered if d.path == path and 200 <= d.status < 300]

    def at(self, path: str) -> list[Delivery]:
        return [d for d in self.answered if d.path == path]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        body = await request.body()
        headers = dict(request.headers.items())
        delivery = Delivery(scope["path"], headers, body, 0)
        if delivery.path in self.chat:
            script = self.scripts.get(delivery.path, [200])
            delivery.status = script[min(len(self.at(delivery.path)), len(script) - 1)]
            self.answered.append(delivery)
            await PlainTextResponse("ok" if delivery.status < 300 else "busy", status_code=delivery.status)(
                scope, receive, send
            )
            return
        for secret in self.secrets.get(delivery.path, []):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            delivery.verified_with.append(secret)
        if not delivery.verified_with:
            delivery.status = 401
            self.refused.append(delivery)
            await PlainTextResponse("signature refused", status_code=401)(scope, receive, send)
            return
        delivery.event = from_structured_event(HTTPMessage(headers=headers, body=body))
        served = len(self.at(delivery.path))
        script = self.scripts.get(delivery.path, [200])
        delivery.status = script[min(served, len(script) - 1)]
        self.answered.append(delivery)
        text = "accepted" if delivery.status < 300 else "not now " + "x" * 5000
        await PlainTextResponse(text, status_code=delivery.status)(scope, receive, send)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    state = Receiver(base_url=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(state, host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        assert server.started, "the receiver did not start"
        yield state
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
