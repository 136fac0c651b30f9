"""`itsm up`: every service as its own process on one machine, output prefixed per service.

A service whose process exits is started again (see `itsm.restarts` for when); the others go on
answering meanwhile. The suite stops on Ctrl-C or SIGTERM, or when a service failed to start
`max_start_failures` times in a row. Each process is watched until it answers `/readyz`, and the
supervisor says when every service is ready. What it knows (process ids, ports, uptimes,
restarts) it writes to a state file for `itsm status`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.text import Text

from itsm.registry import ServiceEntry
from itsm.restarts import DEFAULT_MAX_START_FAILURES, GiveUp, ServiceLife, after_exit, describe_exit
from itsm.suite_state import DEFAULT_STATE_FILE, ProcessState, ServiceState, SuiteState

COLOURS = {
    "incident": "red",
    "change": "yellow",
    "config": "green",
    "supplier": "magenta",
    "reporting": "cyan",
    "notify": "blue",
}
READY_POLL_S = 0.2
STOP_GRACE_S = 30.0
"""How long the services get to drain on stop before they are killed: over the worst case of a
service's own bounds at their defaults (DRAIN_TIMEOUT_S for requests, again for deliveries,
FLUSH_TIMEOUT_S for the outbox, and the bounded closing handshakes; see docs/operations.md)."""


async def _pump(name: str, stream: asyncio.StreamReader, console: Console) -> None:
    width = max(len(n) for n in COLOURS)
    while line := await stream.readline():
        prefix = Text(f"{name:<{width}} | ", style=COLOURS.get(name, "white"))
        console.print(prefix + Text(line.decode(errors="replace").rstrip()), soft_wrap=True, highlight=False)


def service_command(entry: ServiceEntry, *, host: str, port: int, workers: int = 1) -> list[str]:
    """How `itsm up` starts one service: the command line of its process (`itsm serve`; with
    `workers` > 1 that process manages the service's API processes, which share its port)."""
    return [
        sys.executable,
        "-m",
        "itsm",
        "serve",
        entry.name,
        "--host",
        host,
        "--port",
        str(port),
        "--no-access-log",
        *(["--workers", str(workers)] if workers > 1 else []),
    ]


def readyz_url(host: str, port: int) -> str:
    """Where this machine asks a service listening on `host` and `port` whether it is ready (one
    listening on all interfaces is asked on the loopback)."""
    near = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://{f'[{near}]' if ':' in near else near}:{port}/readyz"


@dataclass
class Supervised:
    entry: ServiceEntry
    state: ServiceState
    life: ServiceLife = field(default_factory=ServiceLife)
    process: asyncio.subprocess.Process | None = None
    pumps: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def readyz(self) -> str:
        return readyz_url(self.state.host, self.state.port)


class Supervisor:
    def __init__(
        self,
        entries: Sequence[ServiceEntry],
        *,
        host: str,
        console: Console,
        state_file: Path = DEFAULT_STATE_FILE,
        max_start_failures: int = DEFAULT_MAX_START_FAILURES,
        workers: int = 1,
    ) -> None:
        self.console = console
        self.workers = workers
        self.state_file = state_file
        self.max_start_failures = max_start_failures
        self.services = [
            Supervised(entry, ServiceState(name=entry.name, host=host, port=entry.settings().port)) for entry in entries
        ]
        self.suite = SuiteState(
            pid=os.getpid(), started_at=time.time(), services={s.entry.name: s.state for s in self.services}
        )
        self.stopping = asyncio.Event()
        self.gave_up: str | None = None
        self.all_ready_announced = False

    async def run(self) -> int:
        """Run the suite until Ctrl-C or SIGTERM (exit code 0), or until a service could not be
        started (1)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        async with httpx.AsyncClient(timeout=2) as http:
            keepers = [asyncio.create_task(self._supervise(s, http)) for s in self.services]
            await self.stopping.wait()
            self.console.print("stopping…")
            self._publish_all("stopping")
            await self._stop_processes()
            await asyncio.gather(*keepers, return_exceptions=True)
        await asyncio.gather(*(p for s in self.services for p in s.pumps), return_exceptions=True)
        with contextlib.suppress(FileNotFoundError):
            self.state_file.unlink()
        return 1 if self.gave_up else 0

    async def _supervise(self, service: Supervised, http: httpx.AsyncClient) -> None:
        try:
            await self._keep_running(service, http)
        except Exception as exc:  # the supervisor cannot keep this service running: say so and stop
            self.console.print(f"[bold red]{service.entry.name}: {type(exc).__name__}: {exc}; stopping the suite[/]")
            self.gave_up = f"{service.entry.name}: {exc}"
            self.stopping.set()

    async def _keep_running(self, service: Supervised, http: httpx.AsyncClient) -> None:
        name = service.entry.name
        while not self.stopping.is_set():
            process = await self._start(service)
            if self.stopping.is_set():  # started while the others were told to stop: stop it too
                process.send_signal(signal.SIGTERM)
            watch = asyncio.create_task(self._watch_readiness(service, http))
            returncode = await process.wait()
            watch.cancel()
            if self.stopping.is_set():
                return
            ran_for = time.time() - (service.state.started_at or time.time())
            decision = after_exit(
                service.life,
                was_ready=service.state.ready_at is not None,
                ran_for_s=ran_for,
                max_start_failures=self.max_start_failures,
            )
            service.state.last_exit = describe_exit(returncode)
            exited = f"{name} exited ({service.state.last_exit}) after {ran_for:.1f} s"
            if isinstance(decision, GiveUp):
                self.console.print(f"[bold red]{exited}[/]")
                self.console.print(f"[bold red]{name} {decision.reason}; stopping the suite[/]")
                self.gave_up = f"{name} {decision.reason}"
                self._publish(service, "failed")
                self.stopping.set()
                return
            self.console.print(f"[bold yellow]{exited}; restart {service.life.restarts} in {decision.delay_s:g} s[/]")
            service.state.restarts = service.life.restarts
            self._publish(service, "restarting")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), decision.delay_s)

    async def _start(self, service: Supervised) -> asyncio.subprocess.Process:
        entry, state = service.entry, service.state
        process = await asyncio.create_subprocess_exec(
            *service_command(entry, host=state.host, port=state.port, workers=self.workers),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        service.process = process
        service.pumps.append(asyncio.create_task(_pump(entry.name, process.stdout, self.console)))
        state.pid, state.started_at, state.ready_at = process.pid, time.time(), None
        self._publish(service, "starting")
        if service.life.restarts == 0:
            self.console.print(f"[bold]{entry.name}[/] on http://{state.host}:{state.port} (docs at /docs)")
        return process

    async def _watch_readiness(self, service: Supervised, http: httpx.AsyncClient) -> None:
        """Ask the new process's `/readyz` until it answers 200, then say so."""
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(service.readyz)).status_code == 200:
                    break
            await asyncio.sleep(READY_POLL_S)
        state = service.state
        state.ready_at = time.time()
        self._publish(service, "ready")
        took = state.ready_at - (state.started_at or state.ready_at)
        again = f" again (restart {state.restarts})" if state.restarts else ""
        self.console.print(f"[bold green]{service.entry.name} ready{again}[/] in {took:.1f} s")
        if not self.all_ready_announced and all(s.state.state == "ready" for s in self.services):
            self.all_ready_announced = True
            took = state.ready_at - self.suite.started_at
            self.console.print(f"[bold green]all {len(self.services)} services ready[/] in {took:.1f} s")

    async def _stop_processes(self) -> None:
        running = [s.process for s in self.services if s.process is not None and s.process.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in running)), STOP_GRACE_S)
        except TimeoutError:
            for process in running:
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()

    def _publish(self, service: Supervised, state: ProcessState) -> None:
        service.state.state = state
        self.suite.write(self.state_file)

    def _publish_all(self, state: ProcessState) -> None:
        for service in self.services:
            service.state.state = state
        self.suite.write(self.state_file)


async def run_all(
    entries: Sequence[ServiceEntry],
    *,
    host: str,
    console: Console,
    state_file: Path = DEFAULT_STATE_FILE,
    max_start_failures: int = DEFAULT_MAX_START_FAILURES,
    workers: int = 1,
) -> int:
    """Run every service (`itsm serve`) and keep it running; see `Supervisor`."""
    supervisor = Supervisor(
        entries,
        host=host,
        console=console,
        state_file=state_file,
        max_start_failures=max_start_failures,
        workers=workers,
    )
    return await supervisor.run()


async def broker_reachable(url: str, within_s: float = 3.0) -> str | None:
    """None when the broker answers; otherwise why not, in a few words."""
    import logging

    import aio_pika

    logging.getLogger("aiormq").setLevel(logging.CRITICAL)  # the one-line answer below says it all
    try:
        connection = await asyncio.wait_for(aio_pika.connect(url), within_s)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    await connection.close()
    return None
