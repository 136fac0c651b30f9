"""Services as processes of their own on PostgreSQL, several of each: API replicas (`itsm serve`,
each on its own port) and workers (`itsm worker`), stopped with SIGTERM or killed, and started
again. The shutdown tests (tests/e2e) use single processes of it; the replica load
(`tests.replica_load`, run short by tests/e2e and long by `make replicas`) runs two of each.

Every process writes its output to a file of its own under the run's folder; a failed assertion
shows its last lines.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import aio_pika
import asyncpg
import httpx
from sqlalchemy.engine import make_url

from itsm.registry import entry
from shared.db import create_engine
from shared.outbox import pending_count
from tests.conftest import TEST_JWT_SECRET
from tests.infra import RETRY_DELAY_MS, Servers, create_service_database, eventually

Kind = Literal["api", "worker"]
START_WAIT_S = 600.0
"""How long a process gets to answer after its start: a bound, not a wait (on a busy shared machine,
load average 30 on two cores, a process restarted among twenty-three running ones took 333 s)."""
STOP_WAIT_S = 60.0
"""How long a test waits for a process told to stop: far over its own bounds (the drain and flush
settings and the closing handshakes), so only a process that does not stop hits it."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_env(service: str, servers: Servers, database_url: str, queue_prefix: str, exchange: str) -> dict[str, str]:
    """What every process of a service gets: its database, exchange and queue prefix."""
    return {
        f"{service.upper()}_DATABASE_URL": database_url,
        "ITSM_AMQP_URL": servers.amqp_url,
        "ITSM_EVENTS_EXCHANGE": exchange,
        "ITSM_QUEUE_PREFIX": queue_prefix,
        "ITSM_JWT_SECRET": TEST_JWT_SECRET,
        "ITSM_ENVIRONMENT": "test",
        "OTEL_TRACES_EXPORTER": "none",
        "ITSM_RETRY_DELAY_MS": str(RETRY_DELAY_MS),
        "ITSM_RELAY_POLL_INTERVAL_S": "0.1",
        "ITSM_METRICS_SAMPLE_INTERVAL_S": "0.5",
        "ITSM_LOG_JSON": "false",
    }


async def connect_db(database_url: str) -> asyncpg.Connection:
    """A plain connection to a service's database (to hold a lock on one of its tables)."""
    url = make_url(database_url)
    return await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
    )


async def waiting_on_locks(conn: asyncpg.Connection, at_least: int = 1) -> None:
    """Raises AssertionError until `at_least` sessions of the database wait for a lock."""
    waiting = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    assert waiting >= at_least, waiting


@dataclass
class ServiceProcess:
    """One process of a service: an API replica (`port`: its HTTP port) or a worker (`port`: its
    metrics port). `start` may be called again after it exited (a restart)."""

    service: str
    kind: Kind
    index: int
    env: dict[str, str]
    folder: Path
    port: int = field(default_factory=free_port)
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def name(self) -> str:
        return f"{self.service}-{self.kind}{self.index}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.folder / f"{self.name}.log"

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def command(self) -> list[str]:
        if self.kind == "api":
            return [sys.executable, "-m", "itsm", "serve", self.service, "--port", str(self.port), "--no-access-log"]
        return [sys.executable, "-m", "itsm", "worker", self.service]

    def start(self) -> None:
        env = {**os.environ, **self.env}
        if self.kind == "api" and f"{self.service.upper()}_RUN_WORKER" not in self.env:
            env[f"{self.service.upper()}_RUN_WORKER"] = "false"  # its worker is a process of its own
        else:
            env["ITSM_WORKER_METRICS_PORT"] = str(self.port)
        self.starts += 1
        with self.log_path.open("ab") as output:
            output.write(f"--- start {self.starts}\n".encode())
            output.flush()
            self.popen = subprocess.Popen(self.command(), env=env, stdout=output, stderr=subprocess.STDOUT)

    def output(self, last: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-last:] if self.log_path.exists() else ""

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    async def ready(self, http: httpx.AsyncClient) -> None:
        """Raises AssertionError until the process answers: an API `/readyz` 200; a worker its
        metrics, with its consumer attached (when its service consumes)."""
        assert self.running, f"{self.name} exited:\n{self.output()}"
        try:
            if self.kind == "api":
                answer = await http.get(f"{self.url}/readyz")
                assert answer.status_code == 200, answer.text
                return
            answer = await http.get(f"{self.url}/metrics")
        except httpx.TransportError as exc:
            raise AssertionError(f"{self.name}: {exc!r}\n{self.output(1500)}") from exc
        assert answer.status_code == 200
        if entry(self.service).spec.handlers:
            attached = [line for line in answer.text.splitlines() if line.startswith("itsm_consumer_attached")]
            assert attached and attached[0].endswith(" 1.0"), attached

    async def until_ready(self, http: httpx.AsyncClient, within_s: float = START_WAIT_S) -> None:
        await eventually(lambda: self.ready(http), within_s=within_s, interval=0.1)

    def send(self, sig: signal.Signals) -> None:
        assert self.popen is not None
        self.popen.send_signal(sig)

    async def exit_status(self, within_s: float = STOP_WAIT_S) -> int:
        """The exit status; AssertionError (and the process killed) if it has not exited in time."""
        assert self.popen is not None
        try:
            return await asyncio.to_thread(self.popen.wait, within_s)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(f"{self.name} still running {within_s:.0f}s after SIGTERM:\n{self.output()}") from None

    async def stop(self) -> int:
        """SIGTERM, and its exit status."""
        self.send(signal.SIGTERM)
        return await self.exit_status()

    def kill(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()


@dataclass
class Deployment:
    """Processes of some services, on databases, an exchange and a queue prefix of their own."""

    servers: Servers
    folder: Path
    queue_prefix: str
    exchange: str
    database_urls: dict[str, str]
    processes: list[ServiceProcess] = field(default_factory=list)

    def add(self, service: str, kind: Kind, *, env: dict[str, str] | None = None) -> ServiceProcess:
        index = sum(1 for p in self.processes if p.service == service and p.kind == kind)
        base = process_env(service, self.servers, self.database_urls[service], self.queue_prefix, self.exchange)
        process = ServiceProcess(service, kind, index, {**base, **(env or {})}, self.folder)
        self.processes.append(process)
        return process

    def of(self, service: str, kind: Kind) -> list[ServiceProcess]:
        return [p for p in self.processes if p.service == service and p.kind == kind]

    async def start_all(self, http: httpx.AsyncClient) -> None:
        """Start every process not running, all at once (their imports keep both cores busy, and
        one waiting on the database or the broker leaves its share to the others), and wait until
        each is ready. Each gets START_WAIT_S per four starting beside it: twenty on two busy cores
        take long before the first answers."""
        starting = [p for p in self.processes if not p.running]
        for process in starting:
            process.start()
        within_s = START_WAIT_S * max(1.0, len(starting) / 4)
        await asyncio.gather(*(p.until_ready(http, within_s=within_s) for p in self.processes))

    async def stop_all(self) -> dict[str, int]:
        """SIGTERM to every running process at once; their exit statuses by name."""
        running = [p for p in self.processes if p.running]
        for process in running:
            process.send(signal.SIGTERM)
        statuses = await asyncio.gather(*(p.exit_status() for p in running), return_exceptions=True)
        return {p.name: s if isinstance(s, int) else -999 for p, s in zip(running, statuses, strict=True)}

    async def outbox_pending(self, service: str) -> int:
        engine = create_engine(self.database_urls[service])
        try:
            return await pending_count(engine, entry(service).spec.outbox)
        finally:
            await engine.dispose()

    async def queue_counts(self, service: str) -> tuple[int, int]:
        """(messages ready, consumers) of the service's queue, from a passive declare."""
        connection = await aio_pika.connect(self.servers.amqp_url, timeout=15)
        try:
            channel = await connection.channel()
            queue = await channel.declare_queue(f"{self.queue_prefix}{service}", passive=True)
            result = queue.declaration_result
            return int(result.message_count or 0), int(result.consumer_count or 0)
        finally:
            await connection.close()


def restart_waves(processes: Sequence[ServiceProcess], *, together: bool) -> list[list[ServiceProcess]]:
    """One process a wave; or, `together`, as few waves as leave each deployment (a service's APIs,
    or its workers) a replica serving throughout, as a rollout of every deployment at once does."""
    if not together:
        return [[process] for process in processes]
    waves: list[list[ServiceProcess]] = []
    for process in processes:
        wave = next((w for w in waves if all((p.service, p.kind) != (process.service, process.kind) for p in w)), None)
        if wave is None:
            waves.append(wave := [])
        wave.append(process)
    return waves


@asynccontextmanager
async def deployment(
    servers: Servers, folder: Path, services: Sequence[str], *, label: str = "rep"
) -> AsyncIterator[Deployment]:
    """Fresh databases for `services`, an exchange and a queue prefix of their own; every process left running
    at the end is stopped (SIGTERM, then SIGKILL)."""
    databases = {}
    for service in services:  # one at a time: migrations in parallel threads trip over each other
        databases[service] = await create_service_database(servers, service, label=label)
    found = Deployment(servers, folder, servers.new_queue_prefix(label), servers.new_exchange(label), databases)
    try:
        yield found
    finally:
        with suppress(Exception):
            await found.stop_all()
        for process in found.processes:
            process.kill()
