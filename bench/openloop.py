"""A small HTTP/1.1 keep-alive client for open-loop load: requests go out on a fixed clock.

Each request takes an idle connection or opens a new one, so a slow answer never delays the
next send (no coordinated omission); latency is measured from the *intended* send time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class HttpError(Exception):
    pass


@dataclass
class Answer:
    status: int
    body: bytes


class KeepAliveClient:
    def __init__(self, host: str, port: int, *, timeout_s: float = 10.0, max_idle_s: float = 2.0) -> None:
        self._host = host
        self._port = port
        self._timeout_s = timeout_s
        # uvicorn closes a keep-alive connection idle for 5 s; ours are dropped well before.
        self._max_idle_s = max_idle_s
        self._idle: list[tuple[float, Connection]] = []
        self.opened = 0
        self.retried = 0

    def request_bytes(self, method: str, path: str, *, headers: dict[str, str], body: bytes = b"") -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}:{self._port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def _take_idle(self) -> Connection | None:
        now = time.monotonic()
        while self._idle:
            last_used, conn = self._idle.pop()
            if now - last_used < self._max_idle_s and not conn[1].is_closing():
                return conn
            conn[1].close()
        return None

    async def send(self, raw: bytes) -> Answer:
        """Send one prepared request. Should a reused connection turn out closed by the server
        before any answer byte (so the request was not handled), it is sent again, once, on a new
        connection; `retried` counts those."""
        conn = self._take_idle()
        reused = conn is not None
        if conn is None:
            conn = await self._open()
        try:
            answer, keep = await asyncio.wait_for(self._exchange(conn, raw), self._timeout_s)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            conn[1].close()
            partial = isinstance(exc, asyncio.IncompleteReadError) and exc.partial
            if not reused or partial:
                raise
            self.retried += 1
            conn = await self._open()
            answer, keep = await asyncio.wait_for(self._exchange(conn, raw), self._timeout_s)
        except BaseException:
            conn[1].close()
            raise
        if keep:
            self._idle.append((time.monotonic(), conn))
        else:
            conn[1].close()
        return answer

    async def _open(self) -> Connection:
        self.opened += 1
        return await asyncio.open_connection(self._host, self._port)

    @staticmethod
    async def _exchange(conn: Connection, raw: bytes) -> tuple[Answer, bool]:
        reader, writer = conn
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise HttpError(f"bad status line {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise HttpError(f"no content-length in {headers}")
        body = await reader.readexactly(int(headers["content-length"]))
        keep = headers.get("connection", "").lower() != "close"
        return Answer(int(parts[1]), body), keep

    async def close(self) -> None:
        for _, (_, writer) in self._idle:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        self._idle.clear()


async def sleep_until(deadline: float) -> None:
    """Sleep until `time.perf_counter()` reaches `deadline` (the event loop's timer granularity)."""
    delay = deadline - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * p / 100))
    return ordered[rank - 1]
