"""Services started as separate processes (`itsm serve`), talking only through RabbitMQ."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_JWT_SECRET
from tests.infra import RETRY_DELAY_MS, Servers, create_service_database, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def service_process(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    # Output goes to a file, not a pipe nobody drains (a full pipe would block the service).
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(
            [sys.executable, "-m", *command], env={**os.environ, **env}, stdout=output, stderr=output
        )
        proc.output = output  # type: ignore[attr-defined]
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _output_of(proc: subprocess.Popen[bytes]) -> str:
    output = proc.output  # type: ignore[attr-defined]
    output.seek(0)
    return str(output.read().decode(errors="replace"))[-4000:]


def service_env(service: str, servers: Servers, database_url: str, queue_prefix: str) -> dict[str, str]:
    return {
        f"{service.upper()}_DATABASE_URL": database_url,
        "ITSM_AMQP_URL": servers.amqp_url,
        "ITSM_EVENTS_EXCHANGE": servers.exchange,
        "ITSM_QUEUE_PREFIX": queue_prefix,
        "ITSM_JWT_SECRET": TEST_JWT_SECRET,
        "ITSM_ENVIRONMENT": "test",
        "OTEL_TRACES_EXPORTER": "none",
        "ITSM_RETRY_DELAY_MS": str(RETRY_DELAY_MS),
        "ITSM_MAX_DELIVERY_ATTEMPTS": "3",
    }


@asynccontextmanager
async def started(
    service: str,
    servers: Servers,
    queue_prefix: str,
    *,
    separate_worker: bool = False,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The service's API as a process; with `separate_worker`, its relay and consumer in a second one.
    `extra_env` adds to (or overrides) the environment, e.g. an OpenTelemetry exporter."""
    database_url = await create_service_database(servers, service, label="e2e")
    port = _free_port()
    env = {**service_env(service, servers, database_url, queue_prefix), **(extra_env or {})}
    api = ["itsm", "serve", service, "--port", str(port)]  # as `itsm up` and the images serve it
    with ExitStack() as stack:
        if separate_worker:
            env[f"{service.upper()}_RUN_WORKER"] = "false"
            stack.enter_context(service_process(["itsm.cli", "worker", service], env))
        proc = stack.enter_context(service_process(api, env))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def ready() -> None:
                assert proc.poll() is None, _output_of(proc)
                try:
                    r = await client.get("/readyz")
                except httpx.TransportError as exc:
                    raise AssertionError(str(exc)) from exc
                assert r.status_code == 200, r.text

            await eventually(ready, within_s=30, interval=0.2)
            yield client


async def test_an_incident_created_in_one_process_is_counted_by_reporting_in_another(
    servers: Servers, auth: Callable[..., dict[str, str]]
) -> None:
    headers = auth("agent")
    prefix = servers.new_queue_prefix("e2e")  # reporting's queue starts empty: it counts only this test
    async with started("reporting", servers, prefix) as reporting, started("incident", servers, prefix) as incident:
        assert (await reporting.get("/api/v1/reports/incidents/summary", headers=headers)).json()["total"] == 0
        created = []
        for impact, urgency in [(1, 1), (2, 2), (3, 3)]:
            r = await incident.post(
                "/api/v1/incidents",
                json={"title": "e2e", "caller": "c", "impact": impact, "urgency": urgency},
                headers=headers,
            )
            assert r.status_code == 201, r.text
            created.append(r.json())

        async def counted() -> dict[str, Any]:
            summary: dict[str, Any] = (await reporting.get("/api/v1/reports/incidents/summary", headers=headers)).json()
            assert summary["total"] == 3
            return summary

        summary = await eventually(counted, within_s=30)
        assert summary["by_priority"] == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1}
        assert summary["by_status"] == {"new": 3}
        events = (
            await reporting.get("/api/v1/events", params={"type": "itsm.incident.created.v1"}, headers=headers)
        ).json()
        assert sorted(e["subject"] for e in events["items"]) == sorted(c["id"] for c in created)
        await asyncio.sleep(0)


async def test_an_api_without_its_worker_and_a_separate_worker_process_deliver_together(
    servers: Servers, auth: Callable[..., dict[str, str]]
) -> None:
    headers = auth("agent")
    prefix = servers.new_queue_prefix("e2e")
    async with (
        started("reporting", servers, prefix, separate_worker=True) as reporting,
        started("incident", servers, prefix, separate_worker=True) as incident,
    ):
        ready = (await reporting.get("/readyz")).json()
        assert "consumer" not in ready["checks"]  # the API process does not consume
        r = await incident.post(
            "/api/v1/incidents", json={"title": "w", "caller": "c", "impact": 2, "urgency": 2}, headers=headers
        )
        assert r.status_code == 201

        async def delivered() -> None:
            events = (await reporting.get("/api/v1/events", params={"subject": r.json()["id"]}, headers=headers)).json()
            assert events["total"] == 1

        await eventually(delivered, within_s=30)
