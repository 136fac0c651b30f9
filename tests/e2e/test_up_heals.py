"""`itsm up` heals: a service that dies is started again while the others keep answering, and
`itsm status` shows what the supervisor and the services know.

The suite runs as `itsm up` does on one machine (SQLite files under a temporary folder's var/)
on free ports, with the run's exchange and a queue prefix of its own on the test broker.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from itsm.registry import SERVICE_NAMES
from tests.conftest import TEST_JWT_SECRET
from tests.infra import RETRY_DELAY_MS, Servers, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]
INCIDENT_CREATED = "itsm.incident.created.v1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Suite:
    """One `itsm up` process (the leader of its own process group) and how to reach its services."""

    folder: Path
    env: dict[str, str]
    ports: dict[str, int]
    output: IO[bytes]
    process: subprocess.Popen[bytes] | None = None
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10))

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def printed(self) -> str:
        self.output.seek(0)
        return self.output.read().decode(errors="replace")

    def status(self) -> dict[str, Any]:
        """What `itsm status --json` says, run as a user would run it (same folder, same settings)."""
        result = subprocess.run(
            [sys.executable, "-m", "itsm", "status", "--json"],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    async def ready(self, service: str) -> None:
        assert self.process is not None and self.process.poll() is None, self.printed()[-4000:]
        try:
            answer = await self.http.get(f"{self.url(service)}/readyz")
        except httpx.TransportError as exc:
            raise AssertionError(f"{service}: {exc!r}") from exc
        assert answer.status_code == 200, answer.text


@contextmanager
def itsm_up(folder: Path, servers: Servers, *args: str, ports: dict[str, int] | None = None) -> Iterator[Suite]:
    """`itsm up` in `folder`, stopped with SIGTERM at the end; its whole process group is killed
    if it has not stopped within the bound."""
    ports = ports or {name: _free_port() for name in SERVICE_NAMES}
    env = {
        **os.environ,
        "ITSM_AMQP_URL": servers.amqp_url,
        "ITSM_EVENTS_EXCHANGE": servers.exchange,
        "ITSM_QUEUE_PREFIX": servers.new_queue_prefix("up"),
        "ITSM_JWT_SECRET": TEST_JWT_SECRET,
        "ITSM_ENVIRONMENT": "test",
        "ITSM_RETRY_DELAY_MS": str(RETRY_DELAY_MS),
        "ITSM_RELAY_POLL_INTERVAL_S": "0.1",
        "OTEL_TRACES_EXPORTER": "none",
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
    }
    for name in SERVICE_NAMES:
        env.pop(f"{name.upper()}_DATABASE_URL", None)  # the one-machine default: ./var/<service>.db
    env.pop("ITSM_DATABASE_URL", None)
    with open(folder / "up.log", "w+b") as output:
        suite = Suite(folder, env, ports, output)
        suite.process = subprocess.Popen(
            [sys.executable, "-m", "itsm", "up", *args],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield suite
        finally:
            if suite.process.poll() is None:
                suite.process.send_signal(signal.SIGTERM)
                with suppress(subprocess.TimeoutExpired):
                    suite.process.wait(timeout=30)
            with suppress(ProcessLookupError):
                os.killpg(suite.process.pid, signal.SIGKILL)  # whatever it left behind
            suite.process.wait(timeout=10)


async def _keep_creating(
    suite: Suite, headers: dict[str, str], created: list[str], refused: list[str], stop: asyncio.Event
) -> None:
    """Incidents one after another until told to stop; every answer that is not a 201 is kept."""
    while not stop.is_set():
        body = {"title": f"heal {len(created)}", "caller": "c", "impact": 3, "urgency": 3}
        try:
            answer = await suite.http.post(f"{suite.url('incident')}/api/v1/incidents", json=body, headers=headers)
        except httpx.TransportError as exc:
            refused.append(repr(exc))
        else:
            if answer.status_code == 201:
                created.append(answer.json()["id"])
            else:
                refused.append(f"{answer.status_code} {answer.text}")
        await asyncio.sleep(0.02)


async def _events_of_type(suite: Suite, headers: dict[str, str], event_type: str) -> list[str]:
    subjects: list[str] = []
    while True:
        params: dict[str, str | int] = {"type": event_type, "limit": 500, "offset": len(subjects)}
        page = (await suite.http.get(f"{suite.url('reporting')}/api/v1/events", params=params, headers=headers)).json()
        subjects += [item["subject"] for item in page["items"]]
        if len(subjects) >= page["total"] or not page["items"]:
            return subjects


async def test_a_service_killed_under_itsm_up_is_back_within_seconds_and_no_incident_is_refused_or_lost(
    tmp_path: Path, servers: Servers, auth: Auth
) -> None:
    headers = auth("agent")
    with itsm_up(tmp_path, servers) as suite:
        async with suite.http:

            async def all_ready() -> None:
                for name in SERVICE_NAMES:
                    await suite.ready(name)
                assert f"all {len(SERVICE_NAMES)} services ready" in suite.printed()

            await eventually(all_ready, within_s=90, interval=0.2)
            before = {s["name"]: s for s in suite.status()["services"]}
            assert {s["state"] for s in before.values()} == {"ready"}, before
            assert {s["restarts"] for s in before.values()} == {0}
            assert before["reporting"]["port"] == suite.ports["reporting"]
            killed = before["reporting"]["pid"]

            created: list[str] = []
            refused: list[str] = []
            stop = asyncio.Event()
            creating = asyncio.create_task(_keep_creating(suite, headers, created, refused, stop))

            async def some_created() -> None:
                assert len(created) >= 10, refused

            await eventually(some_created, within_s=30)
            os.kill(killed, signal.SIGKILL)

            async def refuses() -> None:
                try:
                    await suite.http.get(f"{suite.url('reporting')}/readyz")
                except httpx.TransportError:
                    return
                raise AssertionError("reporting still answers")

            await eventually(refuses, within_s=5)
            await eventually(lambda: suite.ready("reporting"), within_s=10, interval=0.1)
            created_while_down = len(created)
            await asyncio.sleep(1)  # and a few more after it is back
            stop.set()
            await asyncio.wait_for(creating, 15)
            assert refused == []
            assert len(created) > created_while_down >= 10

            async def all_reported() -> None:
                subjects = await _events_of_type(suite, headers, INCIDENT_CREATED)
                assert len(subjects) == len(created)
                assert sorted(subjects) == sorted(created)  # each exactly once

            await eventually(all_reported, within_s=30, interval=0.5)
            summary = await suite.http.get(
                f"{suite.url('reporting')}/api/v1/reports/incidents/summary", headers=headers
            )
            assert summary.json()["total"] == len(created)

            after = {s["name"]: s for s in suite.status()["services"]}
            assert after["reporting"]["restarts"] == 1
            assert after["reporting"]["pid"] != killed
            assert {after[n]["restarts"] for n in SERVICE_NAMES if n != "reporting"} == {0}
            assert {s["state"] for s in after.values()} == {"ready"}, after
            assert after["incident"]["outbox_backlog"] == 0
            assert after["reporting"]["queue_depth"] == 0
            assert "reporting exited (killed by SIGKILL)" in suite.printed()
            assert suite.process is not None
            suite.process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(suite.process.wait, 30) == 0, suite.printed()[-4000:]


async def test_itsm_up_stops_the_suite_when_a_service_fails_to_start_n_times_in_a_row(
    tmp_path: Path, servers: Servers
) -> None:
    ports = {name: _free_port() for name in SERVICE_NAMES}
    with socket.socket() as taken:  # config cannot listen: its port is held
        taken.bind(("127.0.0.1", ports["config"]))
        taken.listen()
        with itsm_up(tmp_path, servers, "--max-start-failures", "2", ports=ports) as suite:
            assert suite.process is not None
            # A bound against a hang, not a timing: on a loaded machine six services take long to
            # start, and the others get up to the supervisor's grace to drain when the suite stops.
            exit_code = await asyncio.to_thread(suite.process.wait, 300)
            printed = suite.printed()
            assert exit_code == 1, printed[-4000:]
            assert "config failed to start 2 times in a row; stopping the suite" in printed
            assert printed.count("config exited") == 2
