"""Risk computed from a real configuration service's impact answer, and the degraded path when
that service does not answer."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import uvicorn

from services.change.app import create_app as create_change_app
from services.change.settings import ChangeSettings
from services.config.app import create_app as create_config_app
from services.config.settings import ConfigSettings
from tests.conftest import running
from tests.infra import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def config_url(service_database: Callable[[str], Any], make_settings: Callable[..., Any]) -> AsyncIterator[str]:
    """The configuration service listening on a real port, as the change service reaches it."""
    port = _free_port()
    app = create_config_app(make_settings(ConfigSettings, await service_database("config")))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())

    async def started() -> None:
        assert server.started

    await eventually(started)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def _change_through_assessment(
    change_api: httpx.AsyncClient, auth: Callable[..., dict[str, str]], ci_ids: list[str]
) -> dict[str, Any]:
    rita, mike = auth("requester", subject="rita"), auth("change_manager", subject="mike")
    body = {"title": "Reboot", "affected_ci_ids": ci_ids, "backout_plan": "boot the previous kernel"}

    async def created() -> dict[str, Any]:
        # The change service checks the CIs against what config's events told it: wait for them.
        r = await change_api.post("/api/v1/changes", json=body, headers=rita)
        assert r.status_code == 201, r.text
        answer: dict[str, Any] = r.json()
        return answer

    change = await eventually(created)
    await change_api.post(f"/api/v1/changes/{change['id']}/submit", headers=rita)
    r = await change_api.post(f"/api/v1/changes/{change['id']}/assess", json={}, headers=mike)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


async def test_risk_is_computed_from_the_impact_config_reports(
    config_url: str,
    service_database: Callable[[str], Any],
    make_settings: Callable[..., Any],
    auth: Callable[..., dict[str, str]],
) -> None:
    cmdb = auth("config_manager")
    async with httpx.AsyncClient(base_url=config_url) as config_api:
        service = (
            await config_api.post(
                "/api/v1/cis", json={"name": "Payroll", "type": "business_service", "criticality": 1}, headers=cmdb
            )
        ).json()
        vm = (
            await config_api.post("/api/v1/cis", json={"name": "payroll-vm", "type": "virtual_machine"}, headers=cmdb)
        ).json()
        link = {"source_id": service["id"], "type": "depends_on", "target_id": vm["id"]}
        assert (await config_api.post("/api/v1/relationships", json=link, headers=cmdb)).status_code == 201

    settings = make_settings(ChangeSettings, await service_database("change"), config_url=config_url)
    async with running(create_change_app(settings)) as change_api:
        assessed = await _change_through_assessment(change_api, auth, [vm["id"]])
    assert assessed["risk"] == "medium"  # a business service (10) that is critical (25): 35
    assert "+10 1 business service(s) affected" in assessed["risk_reasons"]
    assert "+25 a critical CI is affected" in assessed["risk_reasons"]
    assert assessed["risk_reasons"][-1] == "score 35"


async def test_without_an_answer_from_config_the_impact_is_unknown_and_scored_high(
    service_database: Callable[[str], Any], make_settings: Callable[..., Any], auth: Callable[..., dict[str, str]]
) -> None:
    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    settings = make_settings(
        ChangeSettings, await service_database("change"), config_url=closed, config_timeout_s=0.5, ci_check="off"
    )
    async with running(create_change_app(settings)) as change_api:
        assessed = await _change_through_assessment(change_api, auth, ["00000000-0000-4000-8000-000000000001"])
    assert assessed["risk"] == "high"
    assert assessed["status"] == "assessed"  # degraded, not failed
    assert assessed["risk_reasons"][0].startswith("+60 impact unknown")
