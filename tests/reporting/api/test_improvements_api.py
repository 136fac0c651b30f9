"""The improvement register against the running reporting service: an entry raised by hand walks
its lifecycle under If-Match (a refused action is a 409 naming the allowed ones, closing without
the figure after a 422 naming the field), each write emits its `improvement.*.v1` event, only the
service level manager writes, and the intake policy is read and set."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from services.reporting.store.tables import outbox
from shared.db import create_engine
from tests.conftest import running

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def reporting_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("reporting"))


@pytest.fixture
async def client(reporting_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ReportingSettings, reporting_db))) as client:
        yield client


async def emitted(reporting_db: str, subject: str) -> list[str]:
    engine = create_engine(reporting_db)
    async with engine.connect() as conn:
        query = select(outbox.c.routing_key).where(outbox.c.subject == subject).order_by(outbox.c.id)
        keys = list(await conn.scalars(query))
    await engine.dispose()
    return keys


async def test_an_entry_raised_by_hand_walks_its_lifecycle_and_closes_with_its_benefit(
    client: httpx.AsyncClient, reporting_db: str, auth: Callable[..., dict[str, str]]
) -> None:
    slm, agent = auth("service_level_manager", subject="sally"), auth("agent")
    body = {
        "title": "Cut P1 resolution time",
        "owner": "sally",
        "target_date": "2027-03-31",
        "source": "report_finding",
        "source_ref": "service-levels 2026-11",
        "measure": "P1 resolution hours",
        "before": 9.5,
    }
    assert (await client.post("/api/v1/improvements", json=body, headers=agent)).status_code == 403
    r = await client.post("/api/v1/improvements", json=body, headers=slm)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["number"].startswith("IMP") and entry["status"] == "raised"
    assert entry["allowed_actions"] == ["accept", "reject", "update"] and entry["raised_by"] == "sally"
    again = await client.post("/api/v1/improvements", json=body, headers=slm)
    assert again.status_code == 409  # one entry per source record
    url = r.headers["Location"]

    wrong = await client.post(f"{url}/actions", json={"action": "close"}, headers={**slm, "If-Match": 'W/"1"'})
    assert wrong.status_code == 409
    assert wrong.json()["allowed_actions"] == ["accept", "reject", "update"]
    version = 1
    for action in ("accept", "start", "implement"):
        moved = await client.post(
            f"{url}/actions", json={"action": action}, headers={**slm, "If-Match": f'W/"{version}"'}
        )
        assert moved.status_code == 200, moved.text
        version += 1
    stale = await client.post(
        f"{url}/actions", json={"action": "close", "after": 6}, headers={**slm, "If-Match": 'W/"1"'}
    )
    assert stale.status_code == 412
    unmeasured = await client.post(
        f"{url}/actions", json={"action": "close"}, headers={**slm, "If-Match": f'W/"{version}"'}
    )
    assert unmeasured.status_code == 422 and unmeasured.json()["errors"][0]["field"] == "after"
    closed = await client.post(
        f"{url}/actions", json={"action": "close", "after": 6.0}, headers={**slm, "If-Match": f'W/"{version}"'}
    )
    assert closed.status_code == 200, closed.text
    read = (await client.get(url, headers=agent)).json()
    assert (read["status"], read["benefit"], read["benefit_change"]) == (
        "closed",
        {"measure": "P1 resolution hours", "before": 9.5, "after": 6.0},
        -3.5,
    )
    assert await emitted(reporting_db, entry["id"]) == [
        "improvement.raised.v1",
        "improvement.updated.v1",
        "improvement.updated.v1",
        "improvement.updated.v1",
        "improvement.closed.v1",
    ]
    listed = await client.get("/api/v1/improvements", params={"status": "closed", "q": entry["number"]}, headers=agent)
    assert [e["id"] for e in listed.json()["items"]] == [entry["id"]]


async def test_bad_input_names_the_field_and_the_policy_is_kept(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    slm = auth("service_level_manager", subject="sally")
    bad = {"title": "x", "owner": "sally", "target_date": "2027-01-01", "source": "failed_change"}
    r = await client.post("/api/v1/improvements", json=bad, headers=slm)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "source"
    r = await client.post("/api/v1/improvements", json={**bad, "source": "manual", "before": "nan"}, headers=slm)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "before"
    by_hand = {**bad, "source": "manual"}
    for _ in range(2):  # entries from no record repeat freely
        assert (await client.post("/api/v1/improvements", json=by_hand, headers=slm)).status_code == 201

    read = await client.get("/api/v1/improvements/policy", headers=auth("agent"))
    assert read.status_code == 200 and set(read.json()) == {
        "sla_breach_threshold",
        "low_score_max",
        "default_owner",
        "target_days",
    }
    policy = {"sla_breach_threshold": 5, "low_score_max": 1, "default_owner": "quality-lead", "target_days": 14}
    assert (await client.put("/api/v1/improvements/policy", json=policy, headers=auth("agent"))).status_code == 403
    assert (await client.put("/api/v1/improvements/policy", json=policy, headers=slm)).status_code == 200
    assert (await client.get("/api/v1/improvements/policy", headers=slm)).json() == policy
    r = await client.put("/api/v1/improvements/policy", json={**policy, "low_score_max": 9}, headers=slm)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "low_score_max"
