"""Capacity's API against the running configuration service: metrics and thresholds with their
bad input answered as RFC 9457 problems, capacity plans as versions with exact money, and
/readyz's details once the job has looked at Prometheus (here: none listening)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.config.app import create_app
from services.config.settings import ConfigSettings
from tests.conftest import running
from tests.infra import eventually
from tests.prometheus import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


@pytest.fixture
async def client(
    service_database: Callable[[str], Any], make_settings: Callable[..., Any]
) -> AsyncIterator[httpx.AsyncClient]:
    nobody = f"http://127.0.0.1:{free_port()}"  # no Prometheus there
    settings = make_settings(
        ConfigSettings, await service_database("config"), prometheus_url=nobody, capacity_interval_s=1
    )
    async with running(create_app(settings)) as client:
        yield client


@pytest.fixture
def manager(auth: Auth) -> dict[str, str]:
    return auth("config_manager", subject="planner")


def _metric(**changes: Any) -> dict[str, Any]:
    name = f"m_{uuid.uuid4().hex[:10]}"
    return {"name": name, "unit": "ratio", "promql": "max by (ci_id) (x)", "warning": 0.7, "critical": 0.9, **changes}


async def _ci(client: httpx.AsyncClient, manager: dict[str, str], ci_type: str = "server") -> str:
    r = await client.post("/api/v1/cis", json={"name": f"c-{uuid.uuid4().hex[:8]}", "type": ci_type}, headers=manager)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_a_metric_and_a_cis_thresholds_on_it(client: httpx.AsyncClient, manager: dict[str, str]) -> None:
    body = _metric()
    r = await client.post("/api/v1/capacity/metrics", json=body, headers=manager)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/api/v1/capacity/metrics/{body['name']}"
    assert (r.json()["ci_label"], r.json()["sampled_until"], r.json()["created_by"]) == ("ci_id", None, "planner")
    again = await client.post("/api/v1/capacity/metrics", json=body, headers=manager)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"

    ci_id = await _ci(client, manager)
    url = f"/api/v1/capacity/metrics/{body['name']}/thresholds/{ci_id}"
    r = await client.put(url, json={"critical": 0.95}, headers=manager)
    assert r.status_code == 200, r.text
    assert (r.json()["warning"], r.json()["critical"], r.json()["level"]) == (0.7, 0.95, "ok")
    r = await client.put(url, json={"warning": 0.8}, headers=manager)  # left out: the metric's default
    assert (r.json()["warning"], r.json()["critical"]) == (0.8, 0.9)
    bad = await client.put(url, json={"warning": 0.99}, headers=manager)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "warning"
    unknown_ci = await client.put(
        f"/api/v1/capacity/metrics/{body['name']}/thresholds/{uuid.uuid4()}", json={}, headers=manager
    )
    assert unknown_ci.status_code == 404
    unknown_metric = await client.put(f"/api/v1/capacity/metrics/nope/thresholds/{ci_id}", json={}, headers=manager)
    assert unknown_metric.status_code == 404

    samples = await client.get(f"/api/v1/capacity/metrics/{body['name']}/samples/{ci_id}", headers=manager)
    assert samples.status_code == 200 and samples.json()["items"] == [] and samples.json()["unit"] == "ratio"
    runway = await client.get("/api/v1/capacity/runway", params={"level": "ok", "limit": 200}, headers=manager)
    row = next(i for i in runway.json()["items"] if i["ci_id"] == ci_id)
    assert (row["metric"], row["forecast"], row["runway_to_critical_days"]) == (body["name"], None, None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "Bad-Name"}, "name"),
        ({"promql": "x" * 2001}, "promql"),
        ({"promql": ""}, "promql"),
        ({"ci_label": "not a label"}, "ci_label"),
        ({"warning": 0.95}, "warning"),
        ({"critical": "Infinity"}, "critical"),
        ({"unit": "u" * 31}, "unit"),
    ],
)
async def test_bad_metrics_are_problems_naming_the_field(
    client: httpx.AsyncClient, manager: dict[str, str], changes: dict[str, Any], field: str
) -> None:
    r = await client.post("/api/v1/capacity/metrics", json=_metric(**changes), headers=manager)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in {e["field"].split(".")[-1] for e in r.json()["errors"]}, r.json()


async def test_capacity_plans_are_versions_with_exact_costs(client: httpx.AsyncClient, manager: dict[str, str]) -> None:
    service_id = await _ci(client, manager, "business_service")
    plan = {
        "service_id": service_id,
        "requirements": "Order API: p95 under 300 ms at 2x today's peak",
        "baselines": [{"metric": "cpu", "value": 0.42, "unit": "ratio"}],
        "forecast_horizon_days": 365,
        "upgrade_items": [
            {
                "resource": "db storage +2 TB",
                "metric": "disk_used_ratio",
                "lead_time_days": 45,
                "cost": "12500.10",
                "currency": "EUR",
                "target_date": "2027-06-30",
            }
        ],
        "review_interval_days": 90,
        "reviewed_on": "2026-12-01",
    }
    r = await client.post("/api/v1/capacity/plans", json=plan, headers=manager)
    assert r.status_code == 201, r.text
    first = r.json()
    assert (first["version"], first["next_review"], first["forecast_method"]) == (1, "2027-03-01", "linear")
    item = first["upgrade_items"][0]
    assert (item["cost"], item["currency"], item["order_by"]) == ("12500.10", "EUR", "2027-05-16")
    r = await client.get(r.headers["Location"], headers=manager)
    assert r.status_code == 200 and r.json() == first
    second = await client.post("/api/v1/capacity/plans", json={**plan, "review_interval_days": 30}, headers=manager)
    assert second.status_code == 201 and second.json()["version"] == 2
    page = await client.get("/api/v1/capacity/plans", params={"service_id": service_id}, headers=manager)
    assert [p["version"] for p in page.json()["items"]] == [2, 1] and page.json()["total"] == 2

    not_a_service = await client.post(
        "/api/v1/capacity/plans", json={**plan, "service_id": await _ci(client, manager)}, headers=manager
    )
    assert not_a_service.status_code == 422 and not_a_service.json()["errors"][0]["field"] == "service_id"
    for bad_item, field in (({"cost": "-1"}, "cost"), ({"cost": "1.001"}, "cost"), ({"currency": "eur"}, "currency")):
        items = [{**plan["upgrade_items"][0], **bad_item}]
        r = await client.post("/api/v1/capacity/plans", json={**plan, "upgrade_items": items}, headers=manager)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"].endswith(field)
    too_many = await client.post(
        "/api/v1/capacity/plans", json={**plan, "upgrade_items": plan["upgrade_items"] * 101}, headers=manager
    )
    assert too_many.status_code == 422
    missing = await client.get(f"/api/v1/capacity/plans/{uuid.uuid4()}", headers=manager)
    assert missing.status_code == 404


async def test_readyz_says_when_prometheus_does_not_answer(client: httpx.AsyncClient) -> None:
    async def reported() -> None:
        r = await client.get("/readyz")
        assert r.status_code == 200, r.text  # capacity is a detail, never a condition of readiness
        assert r.json()["details"]["capacity.prometheus"].startswith("unavailable at "), r.json()
        assert "ConnectError" in r.json()["details"]["capacity.prometheus"]

    await eventually(reported, within_s=20, interval=0.2)
