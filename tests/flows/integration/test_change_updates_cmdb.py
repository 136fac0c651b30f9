"""Flow 1 of the product: a change implemented updates the CMDB, and the change learns the outcome.

The change and config services run as two apps over the run's real RabbitMQ and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from services.change.app import create_app as create_change_app
from services.change.settings import ChangeSettings
from services.config.app import create_app as create_config_app
from services.config.settings import ConfigSettings
from tests.conftest import running
from tests.infra import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def apps(
    service_database: Callable[[str], Any], make_settings: Callable[..., Any]
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        change = await stack.enter_async_context(
            running(create_change_app(make_settings(ChangeSettings, await service_database("change"))))
        )
        config = await stack.enter_async_context(
            running(create_config_app(make_settings(ConfigSettings, await service_database("config"))))
        )
        for client in (change, config):

            async def ready(c: httpx.AsyncClient = client) -> None:
                assert (await c.get("/readyz")).status_code == 200

            await eventually(ready)
        yield change, config


async def test_a_change_implemented_updates_the_cmdb_and_learns_it_succeeded_in_one_trace(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient], auth: Callable[..., dict[str, str]], span_exporter: Any
) -> None:
    change_api, config_api = apps
    cmdb = auth("config_manager", subject="cmdb")
    rita, mike = auth("requester", subject="rita"), auth("change_manager", subject="mike")
    ci = (
        await config_api.post(
            "/api/v1/cis", json={"name": "lb-01", "type": "network_device", "controlled": True}, headers=cmdb
        )
    ).json()
    start = datetime.now(UTC) - timedelta(minutes=5)
    body = {
        "title": "Replace lb-01's firmware",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=2)).isoformat(),
        "affected_ci_ids": [ci["id"]],
        "planned_ci_changes": [
            {"action": "update", "ci_id": ci["id"], "attributes": {"product_version": "9.4.1"}},
            {
                "action": "create",
                "ci": {"name": "lb-01 licence", "type": "document", "attributes": {"document_kind": "licence"}},
            },
        ],
    }

    async def created() -> dict[str, Any]:
        # The change service checks lb-01 against what config's events told it: wait for ci.created.
        r = await change_api.post("/api/v1/changes", json=body, headers=rita)
        assert r.status_code == 201, r.text
        answer: dict[str, Any] = r.json()
        return answer

    change = await eventually(created)
    url = f"/api/v1/changes/{change['id']}"
    await change_api.post(f"{url}/submit", headers=rita)
    await change_api.post(f"{url}/assess", json={"risk": "low"}, headers=auth("change_manager", subject="ann"))
    await change_api.post(f"{url}/approve", headers=mike)

    async def config_knows_the_approval() -> None:
        touched = (await config_api.get(f"/api/v1/cis/{ci['id']}/changes", headers=cmdb)).json()
        assert [c["number"] for c in touched["planned"]] == [change["number"]]

    await eventually(config_knows_the_approval)
    await change_api.post(f"{url}/schedule", headers=mike)
    await change_api.post(f"{url}/start", headers=mike)
    span_exporter.clear()
    completed = await change_api.post(f"{url}/complete", headers=mike)
    assert completed.json()["cmdb_outcome"] == "pending"

    async def applied() -> dict[str, Any]:
        shown: dict[str, Any] = (await change_api.get(url, headers=mike)).json()
        assert shown["cmdb_outcome"] == "applied"
        return shown

    await eventually(applied)
    history = (await config_api.get(f"/api/v1/cis/{ci['id']}/history", headers=cmdb)).json()["items"]
    assert history[0]["cause_kind"] == "change"
    assert history[0]["cause_reference"] == change["number"]
    assert history[0]["changes"] == {"product_version": {"old": None, "new": "9.4.1"}}
    licences = (await config_api.get("/api/v1/cis", params={"q": "lb-01 licence"}, headers=cmdb)).json()
    assert licences["total"] == 1

    spans: list[ReadableSpan] = list(span_exporter.get_finished_spans())
    [post] = [s for s in spans if s.kind is SpanKind.SERVER and s.name.startswith("POST /api/v1/changes/")]
    in_trace = [s for s in spans if s.context.trace_id == post.context.trace_id]
    consumers = [s for s in in_trace if s.kind is SpanKind.CONSUMER]
    assert len(consumers) >= 2  # config took change.implemented, change took config.change_applied


async def test_a_change_whose_ci_changes_the_cmdb_refuses_is_flagged(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient], auth: Callable[..., dict[str, str]]
) -> None:
    change_api, _ = apps
    rita, mike = auth("requester", subject="rita"), auth("change_manager", subject="mike")
    start = datetime.now(UTC)
    body = {
        "title": "Retire a CI that is not there",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=1)).isoformat(),
        "planned_ci_changes": [{"action": "retire", "ci_id": "00000000-0000-4000-8000-000000000000"}],
    }
    change = (await change_api.post("/api/v1/changes", json=body, headers=rita)).json()
    url = f"/api/v1/changes/{change['id']}"
    for action, payload in [
        ("submit", None),
        ("assess", {"risk": "low"}),
        ("approve", None),
        ("schedule", None),
        ("start", None),
        ("complete", None),
    ]:
        who = {"submit": rita, "assess": auth("change_manager", subject="ann")}.get(action, mike)
        r = await change_api.post(f"{url}/{action}", json=payload, headers=who)
        assert r.status_code == 200, r.text

    async def rejected() -> dict[str, Any]:
        shown: dict[str, Any] = (await change_api.get(url, headers=mike)).json()
        assert shown["cmdb_outcome"] == "rejected"
        return shown

    shown = await eventually(rejected)
    assert shown["cmdb_errors"][0]["action"] == "retire"
    assert "does not exist" in shown["cmdb_errors"][0]["reason"]
