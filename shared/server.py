"""The HTTP server every service runs on: uvicorn, plus the bounds on a request head it lacks.

uvicorn (0.54) parses HTTP/1.1 with httptools, which takes a request line and headers of any
size (an 8 MB header reaches the app), and it arms no timer until a response has been sent: its
keep-alive timeout starts after a response, and the next request's first byte cancels it. So a
client could hold a connection for ever by sending part of a request head, or nothing at all.
`HeadLimitedProtocol` is uvicorn's httptools protocol with both bounds:

- a request line and headers over `max_header_bytes` are answered 431 (problem details), checked
  as they arrive, so the server never holds more of a head than the bound and a read or two;
- a connection gets `header_timeout_s` to send a whole request head, counted from its opening
  (or from the first byte of a later request on it); then it is closed, with a 408 when part of a
  request had come.

`serve()` runs a service with it and its settings; `itsm serve`, `itsm up` and the container
images all start services through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copyreg
import functools
import http
import json
import os
import socket
import sys
from collections.abc import Generator
from typing import Any, ClassVar, cast

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess

from shared.http import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE
from shared.settings import ServiceSettings

LINGER_S = 2.0
"""After refusing a head, how long the server goes on reading (and dropping) what the client still
sends before it closes: closing on unread data would reset the connection, and the client could
lose the answer."""
SHUTDOWN_GRACE_S = 0.5
"""On SIGTERM uvicorn closes at once every connection without a request in hand. A connection
accepted just before, whose request is still on its way (or half read), would be dropped with no
answer, and its client could not tell whether to send again: such a connection gets this long for
its request, which is then served and the connection closed after it."""
STARTUP_FAILURE = 3
"""The exit status when the app did not start (uvicorn's own)."""


class HeadTooLarge(Exception):
    """Raised in a parser callback to stop parsing a head found over the bound."""


class HeadLimitedProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol (httptools) with a size bound and a deadline on each request head."""

    max_header_bytes: ClassVar[int] = 32_768
    header_timeout_s: ClassVar[float] = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._reading_head = False  # from a request's first byte to the end of its headers
        self._head_bytes = 0  # bytes read while the head is unfinished (the last read may hold more)
        self._head_too_large = False
        self._refused = False  # what the client still sends is dropped
        self._message_ended_in_read = False
        self._linger: asyncio.TimerHandle | None = None

    # Connection events
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._opened_at = self.loop.time()
        self._requests_begun = 0
        self._arm_head_deadline()

    def shutdown(self) -> None:
        fresh = self._requests_begun == 0 and self.loop.time() - self._opened_at < SHUTDOWN_GRACE_S
        if self.cycle is None and (self._reading_head or fresh):
            self.loop.call_later(SHUTDOWN_GRACE_S, self._shutdown_after_grace)
            return
        super().shutdown()

    def _shutdown_after_grace(self) -> None:
        if not self.transport.is_closing():
            super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        if self._linger is not None:
            self._linger.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn's own, with the refusals added.
        if self._refused:
            return
        self._unset_keepalive_if_required()
        head_under_way = self._reading_head
        self._message_ended_in_read = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if self._head_too_large:
                self._refuse_head_too_large()
            else:
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
            return
        # An unfinished head owns the whole read, unless a request ended earlier in it (pipelined):
        # then that read is not counted; the parsed size is checked when the head is whole.
        if self._reading_head and (head_under_way or not self._message_ended_in_read):
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._refuse_head_too_large()

    # Parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._requests_begun += 1
        self._reading_head = True
        self._head_bytes = 0
        if self._head_deadline is None:  # a later request on the connection: its own deadline
            self._arm_head_deadline()

    def on_message_complete(self) -> None:
        self._message_ended_in_read = True
        super().on_message_complete()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._disarm_head_deadline()
        if self._parsed_head_bytes() > self.max_header_bytes:
            self._head_too_large = True
            raise HeadTooLarge
        super().on_headers_complete()

    def _parsed_head_bytes(self) -> int:
        """The head's size as sent in the usual form: `METHOD url HTTP/1.1`, `name: value` lines
        and the empty line, each with its CRLF (the final check, once the head is whole)."""
        request_line = len(self.parser.get_method()) + 1 + len(self.url) + 1 + len(b"HTTP/1.1") + 2
        return request_line + sum(len(name) + 2 + len(value) + 2 for name, value in self.headers) + 2

    # The two refusals
    def _refuse_head_too_large(self) -> None:
        self.logger.info("Request head over %d bytes from %s: 431", self.max_header_bytes, self.client)
        self._refused = True
        self._disarm_head_deadline()
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head behind a response still being sent: close after that response.
            self.cycle.keep_alive = False
            return
        self._write_problem(
            431,
            f"The request line and headers are larger than {self.max_header_bytes} bytes.",
            limit=self.max_header_bytes,
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._linger = self.loop.call_later(LINGER_S, self.transport.close)

    def _on_head_deadline(self) -> None:
        self._head_deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head stalls behind a response still being sent: close after that one.
            self.cycle.keep_alive = False
            return
        if self._reading_head:
            self._write_problem(408, f"The request line and headers did not arrive within {self.header_timeout_s:g} s.")
        self.transport.close()

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self._head_deadline = self.loop.call_later(self.header_timeout_s, self._on_head_deadline)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _write_problem(self, status: int, detail: str, **extensions: Any) -> None:
        """An RFC 9457 answer written straight to the connection (no app has seen the request),
        which the server closes afterwards."""
        phrase = http.HTTPStatus(status).phrase
        body = json.dumps(
            {
                "type": f"{PROBLEM_TYPE_BASE}http-{status}",
                "title": phrase,
                "status": status,
                "detail": detail,
                **extensions,
            }
        ).encode()
        head = [f"HTTP/1.1 {status} {phrase}\r\n".encode()]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head.append(f"content-type: {PROBLEM_CONTENT_TYPE}\r\ncontent-length: {len(body)}\r\n".encode())
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + body)


WORKER_HEALTHCHECK_S = 60
"""How long `serve(workers=N)`'s manager waits for a process to answer its ping before it kills it."""


class _Bounded(type):
    """The type of the protocol classes `head_limited_protocol` makes: pickled as the call that
    makes them again, so a config holding one reaches the processes of `serve(workers=N)`."""


def head_limited_protocol(settings: ServiceSettings) -> type[HeadLimitedProtocol]:
    """The protocol class with the bounds of these settings (uvicorn creates one per connection)."""
    return _protocol_with(settings.max_header_bytes, settings.header_timeout_s)


def _protocol_with(max_header_bytes: int, header_timeout_s: float) -> type[HeadLimitedProtocol]:
    bounds = {"max_header_bytes": max_header_bytes, "header_timeout_s": header_timeout_s}
    return cast(type[HeadLimitedProtocol], _Bounded("HeadLimitedProtocol", (HeadLimitedProtocol,), bounds))


def _pickle_protocol(cls: Any) -> tuple[Any, tuple[int, float]]:
    return _protocol_with, (cls.max_header_bytes, cls.header_timeout_s)


copyreg.pickle(_Bounded, _pickle_protocol)


def uvicorn_config(
    app_factory: str,
    settings: ServiceSettings,
    *,
    host: str | None = None,
    port: int | None = None,
    access_log: bool = True,
    timeout_graceful_shutdown: float | None = None,
) -> uvicorn.Config:
    """How every service is served: `app_factory` (`module:create_app`) on the settings' host and
    port unless given, one process, uvloop, HTTP/1.1 with the head bounds of the settings. On
    SIGTERM in-flight requests get `timeout_graceful_shutdown` seconds (the settings'
    `drain_timeout_s` unless given), then the app's shutdown drains the worker (shared.runtime)."""
    return uvicorn.Config(
        app_factory,
        factory=True,
        host=host or settings.host,
        port=settings.port if port is None else port,
        http=head_limited_protocol(settings),
        access_log=access_log,
        # uvicorn's bound is typed int, but it only ever reaches asyncio.wait_for.
        timeout_graceful_shutdown=cast(
            int, settings.drain_timeout_s if timeout_graceful_shutdown is None else timeout_graceful_shutdown
        ),
    )


class GracefulServer(uvicorn.Server):
    """uvicorn's server, which exits 0 after a shutdown on SIGTERM or SIGINT that went as planned.

    uvicorn raises the signal again once it has shut down (so the process dies of it, status
    -15): to a supervisor, an orchestrator or a rolling restart, a drained service would then look
    like one that was killed. Here the signal is not raised again; a second one during the drain
    still cuts it short, as in uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown, after taking in the connections the kernel already completed.

        Closing a listener resets every connection still in its accept queue: their clients
        connected, sent their requests, and can not tell a reset from a lost request. So the queue
        is emptied just before the listeners close, with nothing awaited in between, and what it
        held is served like any connection open at shutdown."""
        waiting = _take_accept_queues(self.servers)
        for server in self.servers:
            server.close()
        loop = asyncio.get_running_loop()
        protocol = functools.partial(
            self.config.http_protocol_class,  # uvicorn's own factory is local to its startup
            config=self.config,  # type: ignore[call-arg]
            server_state=self.server_state,
            app_state=self.lifespan.state,
        )
        for connection in waiting:
            await loop.connect_accepted_socket(protocol, connection)
        await super().shutdown(sockets)


def _take_accept_queues(servers: list[asyncio.base_events.Server]) -> list[socket.socket]:
    """Every connection waiting in the servers' listeners' accept queues, accepted (non-blocking)."""
    taken = []
    for server in servers:
        for listener in server.sockets:
            with socket.socket(fileno=os.dup(listener.fileno())) as own:
                own.setblocking(False)
                while True:
                    try:
                        connection, _ = own.accept()
                    except OSError:  # BlockingIOError: the queue is empty
                        break
                    connection.setblocking(False)
                    taken.append(connection)
    return taken


def serve(app_factory: str, settings: ServiceSettings, *, workers: int = 1, **options: Any) -> None:
    """Run the service until it is told to stop (SIGINT, SIGTERM: it drains and returns, exit
    status 0); `options` as `uvicorn_config`. Exits with status 3 when the app did not start, as
    uvicorn's command does.

    `workers` > 1: that many processes accept on one listening socket, bound here (uvicorn's
    process manager): each is the whole service (API, relay, consumer; the relay and the consumer
    are safe with replicas), and one that dies is started again by the manager, which stops them
    all on SIGINT/SIGTERM."""
    config = uvicorn_config(app_factory, settings, **options)
    if workers > 1:
        config.workers = workers
        # The manager pings each process and kills one that does not answer in time; a process
        # still importing the service on a busy machine is not hung.
        config.timeout_worker_healthcheck = WORKER_HEALTHCHECK_S
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = GracefulServer(config)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
