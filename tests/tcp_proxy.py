"""A TCP proxy the tests can cut, freeze and restore, to take the broker away from one service only."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy.engine import make_url


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._frozen = False
        self.port = 0

    @classmethod
    def to_broker(cls, amqp_url: str) -> TcpProxy:
        """A proxy to the broker of `amqp_url` (`url_for` gives the URL through it once started)."""
        broker = make_url(amqp_url.replace("amqp://", "postgresql://", 1))  # only to parse host and port
        return cls(broker.host or "127.0.0.1", broker.port or 5672)

    def url_for(self, amqp_url: str) -> str:
        """`amqp_url` with its host and port replaced by the proxy's."""
        broker = make_url(amqp_url.replace("amqp://", "postgresql://", 1))
        rest = amqp_url.split("@", 1)[1] if "@" in amqp_url else amqp_url.removeprefix("amqp://")
        path = rest.split("/", 1)[1] if "/" in rest else ""
        credentials = f"{broker.username}:{broker.password}@" if broker.username else ""
        return f"amqp://{credentials}127.0.0.1:{self.port}/{path}"

    async def start(self) -> None:
        self._frozen = False
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and drop every open connection, as a broker outage would."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def freeze(self) -> None:
        """Go silent without closing anything, as a partitioned or wedged broker does: nothing more
        is passed on either way, and new connections are taken but never answered."""
        self._frozen = True

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._frozen:
            self._writers.add(client_writer)  # held open, never answered
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update({client_writer, upstream_writer})
        await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if self._frozen:
                    continue  # dropped
                writer.write(data)
                await writer.drain()
        self._writers.discard(writer)
        writer.transport.abort()
