"""The real Prometheus Alertmanager (Debian package prometheus-alertmanager) driving the incident
service's webhook: an alert posted to Alertmanager fires, is re-sent (occurrences), resolves, and
the service opens, updates and resolves one incident.

Alertmanager runs as a subprocess with a generated configuration: a webhook receiver pointing at
the incident service served by uvicorn on a real port (in this event loop), a bearer service token
with the `monitoring` role in `http_config.authorization`, and short group and repeat intervals."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from tests.incident.cis import seed_ci
from tests.infra import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
if ALERTMANAGER is None:
    pytest.skip(
        "the Alertmanager binary is absent: apt-get install prometheus-alertmanager (.ci/run does it)",
        allow_module_level=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def incident_service(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[str]:
    """The incident service on a real port, as Alertmanager must reach it over HTTP."""
    port = free_port()
    settings = make_settings(IncidentSettings, incident_db)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as client:

        async def ready() -> None:
            try:
                r = await client.get("/readyz")
            except httpx.TransportError as exc:
                raise AssertionError(str(exc)) from exc
            assert r.status_code == 200

        await eventually(ready, within_s=30)
    try:
        yield base
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture
def alertmanager(incident_service: str, token: Callable[..., str], tmp_path: Path) -> Iterator[str]:
    port = free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        f"""
route:
  receiver: itsm
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: itsm
    webhook_configs:
      - url: {incident_service}/api/v1/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token("monitoring", subject="alertmanager")}
"""
    )
    assert ALERTMANAGER is not None
    log = (tmp_path / "alertmanager.log").open("w")
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip port: a single instance
            "--log.level=debug",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/-/ready", timeout=1).status_code == 200:
                    break
            if process.poll() is not None:
                pytest.fail("alertmanager exited:\n" + (tmp_path / "alertmanager.log").read_text())
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


async def test_the_real_alertmanager_opens_updates_and_resolves_one_incident(
    alertmanager: str, incident_service: str, incident_db: str, auth: Callable[..., dict[str, str]]
) -> None:
    ci = str(await seed_ci(incident_db))  # a CI the CMDB has told the service about
    name = f"CheckoutErrors{uuid.uuid4().hex[:6]}"
    alert = {
        "labels": {"alertname": name, "severity": "critical", "ci_id": ci, "impact": "2"},
        "annotations": {"summary": "checkout 5xx above 5%", "description": "The checkout API fails."},
        "startsAt": datetime.now(UTC).isoformat(),
        "generatorURL": "http://prometheus.example:9090/graph",
    }
    agent = auth("agent")
    async with httpx.AsyncClient(base_url=incident_service, headers=agent) as service:
        async with httpx.AsyncClient(base_url=alertmanager) as am:
            r = await am.post("/api/v2/alerts", json=[alert])
            assert r.status_code == 200, r.text

            async def opened_and_repeated() -> dict[str, Any]:
                found = (await service.get("/api/v1/incidents", params={"ci_id": ci})).json()
                assert found["total"] == 1
                alerts = (await service.get("/api/v1/alerts", params={"incident_id": found["items"][0]["id"]})).json()
                assert alerts["items"][0]["occurrences"] >= 2  # re-sent after repeat_interval, same incident
                item: dict[str, Any] = found["items"][0]
                return item

            incident = await eventually(opened_and_repeated, within_s=60)
            assert incident["title"] == f"{name}: checkout 5xx above 5%"
            assert (incident["channel"], incident["caller"], incident["status"]) == (
                "monitoring",
                "alertmanager",
                "new",
            )
            assert (incident["impact"], incident["urgency"], incident["priority"]) == (2, 1, 2)

            r = await am.post("/api/v2/alerts", json=[{**alert, "endsAt": datetime.now(UTC).isoformat()}])
            assert r.status_code == 200, r.text

            async def resolved() -> dict[str, Any]:
                read: dict[str, Any] = (await service.get(f"/api/v1/incidents/{incident['id']}")).json()
                assert read["status"] == "resolved"
                return read

            done = await eventually(resolved, within_s=60)
        assert done["resolution_code"] == "resolved_by_monitoring"
        found = (await service.get("/api/v1/incidents", params={"ci_id": ci})).json()
        assert found["total"] == 1  # one incident for the whole life of the alert
        history = (await service.get(f"/api/v1/incidents/{incident['id']}/history")).json()
        assert any(h["field"] == "work_note" and h["actor"] == "alertmanager" for h in history)
