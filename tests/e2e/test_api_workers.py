"""`itsm serve --workers N` (what `itsm up --workers N` runs per service): N API processes accept
on one port, and one that dies is started again while the other keeps serving."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_services_as_processes import _free_port, _output_of, service_env, service_process
from tests.infra import Servers, create_service_database, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _workers_of(manager: int) -> set[int]:
    """The API processes the manager spawned (multiprocessing's spawn children, not its helpers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == manager and b"spawn_main" in cmdline:
            found.add(int(entry.name))
    return found


async def test_two_api_processes_serve_one_port_and_a_killed_one_is_started_again(
    servers: Servers, auth: Callable[..., dict[str, str]]
) -> None:
    database_url = await create_service_database(servers, "incident", label="workers")
    port = _free_port()
    env = service_env("incident", servers, database_url, servers.new_queue_prefix("workers"))
    command = ["itsm", "serve", "incident", "--port", str(port), "--no-access-log", "--workers", "2"]
    body = {
        "title": "VPN drops",
        "description": "Every 10 minutes",
        "caller": "ann",
        "channel": "phone",
        "impact": 2,
        "urgency": 2,
    }
    base_url = f"http://127.0.0.1:{port}"

    async def create() -> None:
        # A new connection each time: a keep-alive one may belong to the process just killed.
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            assert (await client.get("/readyz")).status_code == 200
            created = await client.post("/api/v1/incidents", json=body, headers=auth("agent"))
            assert created.status_code == 201, created.text

    with service_process(command, env) as manager:

        async def serving(without: frozenset[int] = frozenset()) -> set[int]:
            assert manager.poll() is None, _output_of(manager)
            workers = _workers_of(manager.pid)
            assert len(workers) == 2 and not workers & without, workers
            try:
                await create()
            except httpx.TransportError as exc:
                raise AssertionError(f"not served: {exc!r}\n{_output_of(manager)}") from exc
            return workers

        # Within generous bounds: each process imports the whole service, slow on a busy machine.
        first, second = sorted(await eventually(serving, within_s=120, interval=0.2))
        # One is killed: the other serves at once, and the manager starts a new one in its place.
        os.kill(first, signal.SIGKILL)
        await create()
        after = await eventually(lambda: serving(frozenset({first})), within_s=120, interval=0.2)
        assert second in after
