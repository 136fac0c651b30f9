"""The webhook channel's edge: resolve a target's host (every address it has), and POST one signed
delivery, measuring how long the receiver took and keeping a bounded excerpt of its answer."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass

import httpx

from services.notify.domain.deliveries import excerpt


async def addresses_of(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP address in text resolves to itself); [] when it
    does not resolve."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def webhook_client(timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The client of one delivery pass: redirects are not followed (a redirect could lead to an
    address the target check refuses), no proxy from the environment."""
    return httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, trust_env=False, transport=transport)


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    duration_ms: int
    excerpt: str | None
    error: str | None


async def post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], excerpt_chars: int) -> Answer:
    """POST `body`; the answer's status and at most `excerpt_chars` of its text (the rest of a
    long answer is not read)."""
    started = time.monotonic()
    try:
        async with client.stream("POST", url, content=body, headers=headers) as response:
            kept = bytearray()
            async for chunk in response.aiter_bytes():
                kept += chunk
                if len(kept) > 4 * excerpt_chars:
                    break
    except httpx.HTTPError as exc:
        took = int((time.monotonic() - started) * 1000)
        return Answer(None, took, None, f"{type(exc).__name__}: {exc}"[:500])
    took = int((time.monotonic() - started) * 1000)
    text = excerpt(kept.decode("utf-8", "replace"), excerpt_chars) if excerpt_chars else ""
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Answer(response.status_code, took, text or None, error)
