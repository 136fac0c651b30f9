"""Where the tests find PostgreSQL and RabbitMQ, and how they keep to themselves on them.

The servers come from `ITSM_TEST_DATABASE_URL` (an admin URL: the tests create and drop their
own databases) and `ITSM_TEST_AMQP_URL`; where those are unset and a Docker engine answers,
testcontainers starts them. Each run uses its own databases (`itsm_t<run>_<service>`), its own
exchange (`itsm.events.t<run>`) and queue prefix (`t<run>.`), and removes them at the end, so a
second run on the same long-lived servers starts clean.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import aio_pika
from sqlalchemy import Table, func, select
from sqlalchemy.engine import make_url

from shared.db import create_engine
from shared.events import CloudEvent
from shared.messaging import QueueNames
from shared.migrations import upgrade
from shared.settings import ServiceSettings

T = TypeVar("T")
RETRY_DELAY_MS = 100
DEFAULT_RETRY_DELAY_MS: int = ServiceSettings.model_fields["retry_delay_ms"].default
"""The retry delay of every service in the tests (short, and one value: it names the queue)."""


@dataclass
class Servers:
    database_url: str
    amqp_url: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    databases: list[str] = field(default_factory=list)
    extra_queue_prefixes: list[str] = field(default_factory=list)
    extra_exchanges: list[str] = field(default_factory=list)

    def new_exchange(self, label: str) -> str:
        """An exchange of its own (removed at the end), for tests that run services on databases of
        their own: their events (numbers counted from 1 again) must not reach the run's consumers."""
        exchange = f"{self.exchange}.{label}{len(self.extra_exchanges)}"
        self.extra_exchanges.append(exchange)
        return exchange

    def new_queue_prefix(self, label: str) -> str:
        """A queue prefix of its own (removed at the end), for tests whose queues must start empty."""
        prefix = f"{self.queue_prefix}{label}{len(self.extra_queue_prefixes)}."
        self.extra_queue_prefixes.append(prefix)
        return prefix

    @property
    def exchange(self) -> str:
        return f"itsm.events.t{self.run_id}"

    @property
    def queue_prefix(self) -> str:
        return f"t{self.run_id}."

    def database_url_for(self, name: str) -> str:
        return make_url(self.database_url).set(database=name).render_as_string(hide_password=False)


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _docker_engine_up() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@contextmanager
def provide_servers() -> Iterator[Servers]:
    db_url = os.environ.get("ITSM_TEST_DATABASE_URL")
    amqp_url = os.environ.get("ITSM_TEST_AMQP_URL")
    if db_url and amqp_url:
        yield Servers(database_url=db_url, amqp_url=amqp_url)
        return
    if _answers("127.0.0.1", 5432) and _answers("127.0.0.1", 5672):
        # A developer machine with both servers running locally on their default ports.
        yield Servers(
            database_url=db_url or "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
            amqp_url=amqp_url or "amqp://guest:guest@127.0.0.1:5672/",
        )
        return
    if not _docker_engine_up():
        raise RuntimeError(
            "no PostgreSQL and RabbitMQ for the tests: set ITSM_TEST_DATABASE_URL and ITSM_TEST_AMQP_URL "
            "(see .ci/run), run both locally on their default ports, or run where Docker answers"
        )
    from testcontainers.postgres import PostgresContainer
    from testcontainers.rabbitmq import RabbitMqContainer

    with PostgresContainer("postgres:16-alpine", driver="asyncpg") as pg, RabbitMqContainer("rabbitmq:3.13") as mq:
        amqp = f"amqp://guest:guest@{mq.get_container_host_ip()}:{mq.get_exposed_port(5672)}/"
        yield Servers(database_url=pg.get_connection_url(), amqp_url=amqp)


async def _admin_execute(servers: Servers, statement: str) -> None:
    import asyncpg

    url = make_url(servers.database_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_service_database(servers: Servers, service: str, *, label: str = "") -> str:
    """A fresh, migrated database for `service` (several when labelled); dropped by `cleanup`."""
    name = f"itsm_t{servers.run_id}_{service}{'_' + label if label else ''}"
    await _admin_execute(servers, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin_execute(servers, f'CREATE DATABASE "{name}"')
    servers.databases.append(name)
    url = servers.database_url_for(name)
    await asyncio.to_thread(upgrade, service, url)
    return url


async def cleanup(servers: Servers, services: list[str]) -> None:
    for name in servers.databases:
        await _admin_execute(servers, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    # Bounded: a broker that stopped answering fails the session's teardown instead of hanging it.
    connection = await asyncio.wait_for(aio_pika.connect(servers.amqp_url, timeout=15), timeout=30)
    try:
        channel = await connection.channel()
        for service in [p + s for p in (servers.queue_prefix, *servers.extra_queue_prefixes) for s in services]:
            names = QueueNames.for_queue(service)
            # A process started without ITSM_RETRY_DELAY_MS (the browser tests') declares the default's.
            retries = {names.retry(RETRY_DELAY_MS), names.retry(DEFAULT_RETRY_DELAY_MS)}
            for queue in (names.main, *sorted(retries), names.dead):
                await channel.queue_delete(queue)
        for exchange in (servers.exchange, *servers.extra_exchanges):
            await channel.queue_delete(f"{exchange}.unrouted")
            await channel.exchange_delete(exchange)
            await channel.exchange_delete(f"{exchange}.unrouted")
    finally:
        await connection.close()


async def eventually(probe: Callable[[], Awaitable[T]], *, within_s: float = 20.0, interval: float = 0.05) -> T:
    """Poll `probe` until it returns without AssertionError; re-raise the last one at the timeout."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        try:
            return await probe()
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(interval)


async def row_counts(database_url: str, *tables: Table) -> tuple[int, ...]:
    """How many rows each table holds: to show that a refused request stored nothing."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return tuple([int(await conn.scalar(select(func.count()).select_from(t)) or 0) for t in tables])
    finally:
        await engine.dispose()


async def outbox_events(database_url: str, outbox: Table, subject: str) -> list[CloudEvent]:
    """The events a service wrote about one record, in the order written."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            query = select(outbox.c.payload).where(outbox.c.subject == subject).order_by(outbox.c.id)
            payloads = (await conn.scalars(query)).all()
        return [CloudEvent.model_validate_json(p) for p in payloads]
    finally:
        await engine.dispose()
