"""The costing of changes (ISO/IEC 20000-1 6.4) against the running change service, on PostgreSQL
and SQLite, with the threshold at medium risk: a medium-risk change is approved only with its cost
estimate and, reviewed after implementation, closed only with its actual; a low-risk change needs
neither. Amounts come back exact to the cent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.change.app import create_app
from services.change.settings import ChangeSettings
from services.change.store.tables import outbox
from shared.events.cost import ChangeCostStated
from shared.migrations import upgrade
from tests.conftest import running
from tests.infra import outbox_events

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


@pytest.fixture(params=["postgresql", "sqlite"])
async def database_url(request: pytest.FixtureRequest, service_database: Callable[[str], Any], tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/change.db"
        await asyncio.to_thread(upgrade, "change", url)
        return url
    return str(await service_database("change"))


@pytest.fixture
async def client(database_url: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(ChangeSettings, database_url, cost_required_from_risk="medium", ci_check="off")
    async with running(create_app(settings)) as client:
        yield client


async def _assessed(client: httpx.AsyncClient, auth: Auth, risk: str) -> str:
    ann = auth("change_manager", subject="ann")
    start = datetime.now(UTC) + timedelta(days=400 + uuid.uuid4().int % 1000)
    body = {
        "title": "Upgrade the payroll database",
        "service_ids": [str(uuid.uuid4())],
        "backout_plan": "restore",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=1)).isoformat(),
    }
    r = await client.post("/api/v1/changes", json=body, headers=ann)
    assert r.status_code == 201, r.text
    url = f"/api/v1/changes/{r.json()['id']}"
    assert (await client.post(f"{url}/submit", headers=ann)).status_code == 200
    r = await client.post(f"{url}/assess", json={"risk": risk}, headers=ann)
    assert r.status_code == 200, r.text
    return url


async def test_a_change_at_the_threshold_is_costed_before_approval_and_before_close(
    client: httpx.AsyncClient, auth: Auth, database_url: str
) -> None:
    ann, bob = auth("change_manager", subject="ann"), auth("change_manager", subject="bob")
    url = await _assessed(client, auth, "medium")
    shown = (await client.get(f"{url}/cost", headers=ann)).json()
    assert (shown["required"], shown["estimated_cost"]) == (True, None)

    refused = await client.post(f"{url}/approve", headers=bob)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "estimated_cost"
    bad = await client.put(f"{url}/cost", json={"currency": "EUR", "estimated_cost": "10.001"}, headers=ann)
    assert bad.status_code == 422
    estimate = {
        "currency": "EUR",
        "estimated_cost": "1200.5",
        "cost_category": "personnel",
        "financial_impact": "2 days",
    }
    r = await client.put(f"{url}/cost", json=estimate, headers=ann)
    assert r.status_code == 200, r.text
    assert (r.json()["estimated_cost"], r.json()["actual_cost"], r.json()["required"]) == ("1200.50", None, True)
    assert (await client.post(f"{url}/approve", headers=bob)).status_code == 200

    for step in ("schedule", "start", "complete"):
        r = await client.post(f"{url}/{step}", headers=ann)
        assert r.status_code == 200, (step, r.text)
    r = await client.post(f"{url}/review", json={"outcome": "effective"}, headers=ann)
    assert r.status_code == 200, r.text
    refused = await client.post(f"{url}/close", headers=ann)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "actual_cost"
    r = await client.put(f"{url}/cost", json={**estimate, "actual_cost": "1350.25"}, headers=ann)
    assert (r.json()["estimated_cost"], r.json()["actual_cost"]) == ("1200.50", "1350.25")
    assert (await client.post(f"{url}/close", headers=ann)).status_code == 200
    late = await client.put(f"{url}/cost", json=estimate, headers=ann)
    assert late.status_code == 409  # settled once closed

    change = (await client.get(url, headers=ann)).json()
    stated = [
        e.data_as(ChangeCostStated)
        for e in await outbox_events(database_url, outbox, change["id"])
        if e.type == ChangeCostStated.event_type()
    ]
    assert [(s.estimated_cost, s.actual_cost, s.currency, s.stated_by) for s in stated] == [
        (Decimal("1200.50"), None, "EUR", "ann"),
        (Decimal("1200.50"), Decimal("1350.25"), "EUR", "ann"),
    ]  # the refused late statement published nothing
    assert all(
        s.service_ids == [uuid.UUID(i) for i in change["service_ids"]] and s.number == change["number"] for s in stated
    )


async def test_a_change_below_the_threshold_needs_no_cost(client: httpx.AsyncClient, auth: Auth) -> None:
    url = await _assessed(client, auth, "low")
    assert (await client.get(f"{url}/cost", headers=auth("change_manager"))).json()["required"] is False
    assert (await client.post(f"{url}/approve", headers=auth("change_manager", subject="bob"))).status_code == 200
