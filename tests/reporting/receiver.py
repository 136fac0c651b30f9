"""A real HTTP receiver on a free local port that records every POST it gets (for webhook tests).

Each path answers from its script of status codes, in order (the last one repeats; no script:
200), so `/flaky` scripted `[503, 200]` fails once and then accepts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    base_url: str
    scripts: dict[str, list[int]]
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base_url + path

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        """Keep what arrived; the status to answer with (the next of the path's script)."""
        with self.lock:
            served = sum(1 for r in self.received if r.path == path)
            script = self.scripts.get(path, [200])
            status = script[min(served, len(script) - 1)]
            self.received.append(Received(path, headers, body, status))
            return status


@contextmanager
def receiver(scripts: dict[str, list[int]] | None = None) -> Iterator[Receiver]:
    state: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = state.record(self.path, dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"not now")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = Receiver(base_url=f"http://127.0.0.1:{server.server_address[1]}", scripts=scripts or {})
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
