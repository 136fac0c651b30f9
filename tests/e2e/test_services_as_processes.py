"""Services started as separate processes (uvicorn), talking only through RabbitMQ."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
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
def service_process(service: str, port: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", f"services.{service}.app:create_app", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@asynccontextmanager
async def started(service: str, servers: Servers) -> AsyncIterator[httpx.AsyncClient]:
    database_url = await create_service_database(servers, service, label="e2e")
    port = _free_port()
    prefix = service.upper()
    env = {
        f"{prefix}_DATABASE_URL": database_url,
        "ITSM_AMQP_URL": servers.amqp_url,
        "ITSM_EVENTS_EXCHANGE": servers.exchange,
        "ITSM_QUEUE_PREFIX": servers.queue_prefix,
        "ITSM_JWT_SECRET": TEST_JWT_SECRET,
        "ITSM_ENVIRONMENT": "test",
        "OTEL_TRACES_EXPORTER": "none",
        "ITSM_RETRY_DELAY_MS": str(RETRY_DELAY_MS),
        "ITSM_MAX_DELIVERY_ATTEMPTS": "3",
    }
    with service_process(service, port, env) as proc:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def ready() -> None:
                assert proc.poll() is None, (proc.stdout.read() if proc.stdout else b"").decode()
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
    async with started("reporting", servers) as reporting, started("incident", servers) as incident:
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
