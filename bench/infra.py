"""The bench's own servers: scratch databases, broker names, service processes, and cleanup.

Everything a run creates carries its run id: databases `bench_<id>_<name>`, the exchange
`itsm.events.bench<id>` and the queue prefix `bench<id>.`, and is removed at the end, so a run
leaves the shared PostgreSQL and RabbitMQ as it found them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx
import uvloop
from sqlalchemy.engine import make_url

from shared.auth import mint_token
from shared.messaging import QueueNames
from shared.migrations import upgrade

REPO = Path(__file__).resolve().parent.parent
ADMIN_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL",
    os.environ.get("ITSM_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"),
)
AMQP_URL = os.environ.get("BENCH_AMQP_URL", os.environ.get("ITSM_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"))
JWT_SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
RETRY_DELAY_MS = 2000  # the settings' default; it names the retry queue we delete at the end

# One set of server flags for the suite and the baseline: one process (uvicorn's default),
# uvloop, httptools, no access log (as `itsm up` runs the services). The suite's services run
# through `itsm serve`, which sets the same (its httptools protocol adds the request-head limits).
UVICORN_FLAGS = ("--loop", "uvloop", "--http", "httptools", "--no-access-log")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (`postgresql+asyncpg://...`) as a plain libpq DSN for asyncpg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Bench:
    """One run's names on the shared servers, and what it must remove at the end."""

    # BENCH_RUN_ID names a run from outside (the smoke test looks for what it left behind).
    run_id: str = field(default_factory=lambda: os.environ.get("BENCH_RUN_ID") or uuid.uuid4().hex[:8])
    admin_url: str = ADMIN_DATABASE_URL
    amqp_url: str = AMQP_URL
    databases: list[str] = field(default_factory=list)
    consumers: list[str] = field(default_factory=list)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="itsm-bench-")))

    @property
    def exchange(self) -> str:
        return f"itsm.events.bench{self.run_id}"

    @property
    def queue_prefix(self) -> str:
        return f"bench{self.run_id}."

    def token(self, *roles: str) -> str:
        return mint_token(JWT_SECRET, "bench", roles or ("agent",))

    def database_url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    async def _admin(self, statement: str) -> None:
        conn = await asyncpg.connect(asyncpg_dsn(self.admin_url))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    async def create_database(self, name: str, schema: str) -> str:
        """A fresh database `bench_<id>_<name>` migrated with service `schema`'s migrations."""
        db = f"bench_{self.run_id}_{name}"
        await self._admin(f'CREATE DATABASE "{db}"')
        self.databases.append(db)
        url = self.database_url(db)
        await asyncio.to_thread(upgrade, schema, url)
        return url

    def service_env(self, service: str, database_url: str) -> dict[str, str]:
        """The environment of a suite service under test (as the e2e tests start them)."""
        self.consumers.append(service)
        return {
            f"{service.upper()}_DATABASE_URL": database_url,
            "ITSM_AMQP_URL": self.amqp_url,
            "ITSM_EVENTS_EXCHANGE": self.exchange,
            "ITSM_QUEUE_PREFIX": self.queue_prefix,
            "ITSM_JWT_SECRET": JWT_SECRET,
            "ITSM_ENVIRONMENT": "test",
            "ITSM_RETRY_DELAY_MS": str(RETRY_DELAY_MS),
            # Tracing on (spans are created, sampled and ended) but not exported anywhere.
            "OTEL_TRACES_EXPORTER": "none",
        } | traces_sampler_env()

    async def cleanup(self, *, keep_logs: bool = False) -> None:
        """Drop the databases, delete the queues and exchanges; the server logs go too, unless
        `keep_logs` (after a failure), when their folder is printed."""
        if keep_logs:
            print(f"server logs kept in {self.workdir}", file=sys.stderr)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
        for db in self.databases:
            with contextlib.suppress(Exception):
                await self._admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        self.databases.clear()
        with contextlib.suppress(Exception):
            connection = await aio_pika.connect(self.amqp_url)
            try:
                channel = await connection.channel()
                for service in self.consumers:
                    names = QueueNames.for_queue(self.queue_prefix + service)
                    for queue in (names.main, names.retry(RETRY_DELAY_MS), names.dead):
                        await channel.queue_delete(queue)
                await channel.queue_delete(f"{self.exchange}.unrouted")
                await channel.exchange_delete(self.exchange)
                await channel.exchange_delete(f"{self.exchange}.unrouted")
            finally:
                await connection.close()


TRACES_SAMPLER = os.environ.get("BENCH_TRACES_SAMPLER", "parentbased_always_on")
"""The suite's sampler in a bench: every request traced (100 %) unless BENCH_TRACES_SAMPLER says
otherwise; `default` leaves the suite's own default (shared/telemetry.py: parent-based, 10 %)."""


INCIDENT_WORKERS = int(os.environ.get("BENCH_INCIDENT_WORKERS", "1"))
"""API processes of the incident service in `running_stack` (`itsm serve --workers N`)."""


WORKERS_SETTLE_S = 20.0


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a manager's API processes and its helpers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def traces_sampler_env() -> dict[str, str]:
    return {} if TRACES_SAMPLER == "default" else {"OTEL_TRACES_SAMPLER": TRACES_SAMPLER}


class ServerProcess:
    """One uvicorn process on 127.0.0.1; its output goes to a log file (printed if it fails)."""

    def __init__(self, name: str, factory: str, env: Mapping[str, str], workdir: Path, *, workers: int = 1) -> None:
        self.name = name
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}.log"
        if factory.startswith("services."):  # a suite service: served as everywhere else, by `itsm serve`
            command = [sys.executable, "-m", "itsm", "serve", factory.split(".")[1], "--host", "127.0.0.1"]
            command += ["--port", str(self.port), "--no-access-log"]
            command += ["--workers", str(workers)] if workers > 1 else []
        else:
            command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1"]
            command += ["--port", str(self.port), *UVICORN_FLAGS]
        self.command = command
        with self.log_path.open("wb") as log:
            # Own session: a Ctrl-C in the terminal reaches the bench, which stops its servers.
            self.proc = subprocess.Popen(
                command,
                cwd=REPO,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def wait_ready(self, path: str, within_s: float = 180.0) -> None:
        deadline = time.monotonic() + within_s
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(path)).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} not ready on {path} after {within_s}s:\n{self.log_tail()}")
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            for _ in range(250):
                if self.proc.poll() is not None:
                    return
                await asyncio.sleep(0.1)
            self.proc.kill()
            self.proc.wait(5)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _busy_ticks() -> int:
    """CPU ticks spent on anything but idle and iowait, machine-wide, since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]


def _process_ticks() -> dict[int, tuple[int, str]]:
    """utime + stime and the command line of every process that can be read."""
    out: dict[int, tuple[int, str]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        out[int(entry.name)] = (int(rest[11]) + int(rest[12]), cmdline)
    return out


def _client_backend(cmdline: str) -> bool:
    # "postgres: 15/main: <user> <database> 127.0.0.1(43210) idle": a session, not a server process
    return cmdline.startswith("postgres: ") and ("(" in cmdline or "[local]" in cmdline)


@dataclass
class CpuWindow:
    """Where the machine's CPU went during one measurement, in cores: each of our servers, the
    load generator (wrk, or this process for the open loop), PostgreSQL (the backends serving our
    databases, plus its own background processes), RabbitMQ, and `other`: everything else, which
    is noise from other work on the machine (it includes backends serving other databases)."""

    started: float
    busy0: int
    procs0: dict[int, tuple[int, str]]
    children0: float
    names: dict[int, str]
    run_id: str

    @classmethod
    def start(cls, names: dict[int, str], run_id: str) -> CpuWindow:
        times = os.times()
        return cls(
            time.monotonic(),
            _busy_ticks(),
            _process_ticks(),
            times.children_user + times.children_system,
            {**names, os.getpid(): "bench"},
            run_id,
        )

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self.started
        busy = (_busy_ticks() - self.busy0) / _CLOCK_TICKS
        times = os.times()
        used_by: dict[str, float] = dict.fromkeys(self.names.values(), 0.0)
        used_by |= {"wrk": times.children_user + times.children_system - self.children0}  # once waited
        used_by |= {"postgresql": 0.0, "rabbitmq": 0.0, "other": 0.0}
        for pid, (ticks, cmdline) in _process_ticks().items():
            used = (ticks - self.procs0.get(pid, (0, ""))[0]) / _CLOCK_TICKS
            if used <= 0:
                continue
            if pid in self.names:
                used_by[self.names[pid]] += used
            elif f"bench_{self.run_id}" in cmdline or (cmdline.startswith("postgres") and not _client_backend(cmdline)):
                used_by["postgresql"] += used
            elif "beam.smp" in cmdline:
                used_by["rabbitmq"] += used
            else:
                used_by["other"] += used
        # Processes that exited during the window (other than wrk) are counted as other.
        used_by["other"] += max(0.0, busy - sum(used_by.values()))
        return {"wall_s": round(wall, 2), "machine": round(busy / wall, 2)} | {
            k: round(v / wall, 2) for k, v in used_by.items()
        }


def describe_cpu(cpu: dict[str, float]) -> str:
    parts = [f"{k} {v:.2f}" for k, v in cpu.items() if k not in ("wall_s", "machine") and v >= 0.005]
    return f"machine {cpu['machine']:.2f} cores = " + ", ".join(parts)


@dataclass
class Stack:
    """The processes under test: the suite's incident and reporting services, and the baseline."""

    bench: Bench
    incident: ServerProcess
    reporting: ServerProcess
    baseline: ServerProcess
    incident_db: str
    reporting_db: str
    baseline_db: str

    def cpu_window(self) -> CpuWindow:
        names = {p.pid: p.name for p in (self.incident, self.reporting, self.baseline)}
        names |= dict.fromkeys(children_of(self.incident.pid), "incident")  # its API processes (--workers)
        return CpuWindow.start(names, self.bench.run_id)

    async def count(self, database_url: str, query: str) -> int:
        conn = await asyncpg.connect(asyncpg_dsn(database_url))
        try:
            return int(await conn.fetchval(query))
        finally:
            await conn.close()

    async def backlog(self) -> dict[str, int]:
        """Rows the pipeline has not carried to reporting yet."""
        incidents = await self.count(self.incident_db, "SELECT count(*) FROM incident")
        pending = await self.count(self.incident_db, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        logged = await self.count(self.reporting_db, "SELECT count(*) FROM event_log")
        return {"incidents": incidents, "outbox_pending": pending, "reporting_missing": incidents - logged}

    async def drain(self, within_s: float = 120.0, interval_s: float = 0.1) -> float:
        """Wait until every incident is in reporting's event log; returns the seconds it took."""
        start = time.monotonic()
        while True:
            left = await self.backlog()
            if left["outbox_pending"] == 0 and left["reporting_missing"] <= 0:
                return time.monotonic() - start
            if time.monotonic() - start > within_s:
                raise RuntimeError(f"the pipeline did not drain within {within_s}s: {left}")
            await asyncio.sleep(interval_s)


@asynccontextmanager
async def running_stack(bench: Bench) -> AsyncIterator[Stack]:
    """Migrated scratch databases, then reporting, incident and the baseline, each ready."""
    incident_db = await bench.create_database("incident", "incident")
    reporting_db = await bench.create_database("reporting", "reporting")
    baseline_db = await bench.create_database("baseline", "incident")  # same tables as the suite
    processes: list[ServerProcess] = []
    try:
        reporting = ServerProcess(
            "reporting",
            "services.reporting.app:create_app",
            bench.service_env("reporting", reporting_db),
            bench.workdir,
        )
        processes.append(reporting)
        incident = ServerProcess(
            "incident",
            "services.incident.app:create_app",
            bench.service_env("incident", incident_db),
            bench.workdir,
            workers=INCIDENT_WORKERS,
        )
        processes.append(incident)
        baseline = ServerProcess(
            "baseline",
            "bench.baseline_app:create_app",
            {"BENCH_BASELINE_DATABASE_URL": asyncpg_dsn(baseline_db)},
            bench.workdir,
        )
        processes.append(baseline)
        await asyncio.gather(
            reporting.wait_ready("/readyz"), incident.wait_ready("/readyz"), baseline.wait_ready("/healthz")
        )
        if INCIDENT_WORKERS > 1:
            # /readyz answers from whichever process is up first; give the others time to import.
            await asyncio.sleep(WORKERS_SETTLE_S)
        yield Stack(bench, incident, reporting, baseline, incident_db, reporting_db, baseline_db)
    finally:
        await asyncio.gather(*(p.stop() for p in processes), return_exceptions=True)


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else "?"


async def machine_info(bench: Bench) -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in (await asyncio.to_thread(Path("/proc/cpuinfo").read_text)).splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    conn = await asyncpg.connect(asyncpg_dsn(bench.admin_url))
    try:
        pg = await conn.fetchval("SHOW server_version")
        sync_commit = await conn.fetchval("SHOW synchronous_commit")
    finally:
        await conn.close()
    rabbit = "?"
    with contextlib.suppress(Exception):
        connection = await aio_pika.connect(bench.amqp_url)
        props: Any = connection.transport.connection.server_properties if connection.transport else {}
        rabbit = props.get("version", b"?")
        rabbit = rabbit.decode() if isinstance(rabbit, bytes) else str(rabbit)
        await connection.close()
    packages = ["fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic", "sqlalchemy", "asyncpg"]
    packages += ["aio-pika", "opentelemetry-sdk", "opentelemetry-instrumentation-fastapi", "pyjwt"]
    versions = {}
    for name in packages:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": f"{pg} (synchronous_commit={sync_commit})",
        "rabbitmq": rabbit,
        "wrk": _version(["wrk", "--version"]),
        "loadavg_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "packages": versions,
    }


def print_machine(info: dict[str, Any]) -> None:
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    print(
        f"machine: nproc={info['nproc']} ({info['cpu']}), kernel {info['kernel']}, Python {info['python']},"
        f" PostgreSQL {info['postgresql']}, RabbitMQ {info['rabbitmq']}, {info['wrk']}"
    )
    print(f"packages: {packages}")
    print(
        f"load average before: {info['loadavg_before']}"
        " (load generator, servers, PostgreSQL and RabbitMQ share the cores)"
    )


def run_main(main: Callable[[], Awaitable[int]]) -> int:
    """Run the bench on uvloop; the first SIGINT/SIGTERM cancels it, and its cleanup (stop the
    servers, drop the databases, delete the queues) then runs without being interrupted again."""

    async def guarded() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        interrupted = False

        def on_signal() -> None:
            nonlocal interrupted
            if not interrupted:
                interrupted = True
                print("interrupted: stopping the servers and cleaning up…", file=sys.stderr, flush=True)
                task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        try:
            return await main()
        except asyncio.CancelledError:
            if interrupted:
                return 130
            raise

    return uvloop.run(guarded())
