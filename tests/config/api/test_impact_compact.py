"""Impact analysis's compact answer (`view=compact`): the ids and distances of the CIs the full
answer shows, in its order, a bounded page at a time; on PostgreSQL (its ids-only level query)
and on SQLite (the level-by-level walk), through the API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.config.app import create_app
from services.config.domain.impact import PAGE_DEFAULT, PAGE_MAX
from services.config.schemas.impact import ImpactPage
from services.config.settings import ConfigSettings
from shared.migrations import upgrade
from tests.conftest import running

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


@pytest.fixture(params=["postgresql", "sqlite"])
async def client(
    request: pytest.FixtureRequest,
    service_database: Callable[[str], Any],
    make_settings: Callable[..., Any],
    tmp_path: Path,
) -> AsyncIterator[httpx.AsyncClient]:
    if request.param == "postgresql":
        url = str(await service_database("config"))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}/config.db"
        await asyncio.to_thread(upgrade, "config", url)
    async with running(create_app(make_settings(ConfigSettings, url))) as client:
        yield client


async def _graph(client: httpx.AsyncClient, manager: dict[str, str]) -> dict[str, str]:
    """payments (service) -> api, api2 (instances) -> vm, vm2 -> host, and back: a cycle; the api
    depends on a database; a backup of the host carries no impact."""
    ids: dict[str, str] = {}
    for name, kind in [
        ("payments", "business_service"),
        ("api", "application_instance"),
        ("api2", "application_instance"),
        ("vm", "virtual_machine"),
        ("vm2", "virtual_machine"),
        ("host", "server"),
        ("db", "database"),
        ("backup", "server"),
    ]:
        r = await client.post(
            "/api/v1/cis", json={"name": f"{name}-{uuid.uuid4().hex[:6]}", "type": kind}, headers=manager
        )
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    for source, kind, target in [
        ("payments", "depends_on", "api"),
        ("payments", "depends_on", "api2"),
        ("api", "runs_on", "vm"),
        ("api2", "runs_on", "vm2"),
        ("vm", "runs_on", "host"),
        ("vm2", "runs_on", "host"),
        ("host", "depends_on", "payments"),
        ("api", "depends_on", "db"),
        ("backup", "supported_by", "host"),
    ]:
        body = {"source_id": ids[source], "type": kind, "target_id": ids[target]}
        r = await client.post("/api/v1/relationships", json=body, headers=manager)
        assert r.status_code == 201, r.text
    return ids


async def _get(client: httpx.AsyncClient, headers: dict[str, str], ci: str, **params: Any) -> dict[str, Any]:
    r = await client.get(f"/api/v1/cis/{ci}/impact", params=params, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body: dict[str, Any] = r.json()
    return body


async def test_the_compact_answer_is_the_full_answers_ids_and_distances_paged(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    manager, agent = auth("config_manager", subject="cmdb-admin"), auth("agent")
    ids = await _graph(client, manager)
    names = {v: k for k, v in ids.items()}

    compact = await _get(client, agent, ids["host"], depth=5, view="compact")
    assert ImpactPage.model_validate(compact).model_dump(mode="json") == compact
    distances = {names[i["id"]]: i["distance"] for i in compact["items"]}
    assert distances == {"vm": 1, "vm2": 1, "api": 2, "api2": 2, "payments": 3}
    # Nearest first, then by id: the full answer's order.
    assert [i["id"] for i in compact["items"]] == [i for _, i in sorted((d, ids[n]) for n, d in distances.items())]
    full = await _get(client, agent, ids["host"], depth=5)
    assert [{"id": a["ci"]["id"], "distance": a["distance"]} for a in full["affected"]] == compact["items"]
    assert (await _get(client, agent, ids["host"], depth=5, view="full")) == full
    assert {k: compact[k] for k in ("root_id", "direction", "depth", "total", "limit", "offset")} == {
        "root_id": ids["host"],
        "direction": "downstream",
        "depth": 5,
        "total": 5,
        "limit": PAGE_DEFAULT,
        "offset": 0,
    }

    pages = [await _get(client, agent, ids["host"], depth=5, view="compact", limit=2, offset=o) for o in (0, 2, 4, 6)]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert [i for p in pages for i in p["items"]] == compact["items"]
    assert {(p["total"], p["limit"]) for p in pages} == {(5, 2)}
    assert [p["offset"] for p in pages] == [0, 2, 4, 6]

    shallow = await _get(client, agent, ids["host"], depth=2, view="compact")
    assert {names[i["id"]]: i["distance"] for i in shallow["items"]} == {"vm": 1, "vm2": 1, "api": 2, "api2": 2}
    upstream = await _get(client, agent, ids["payments"], direction="upstream", depth=2, view="compact")
    assert {names[i["id"]]: i["distance"] for i in upstream["items"]} == {
        "api": 1,
        "api2": 1,
        "vm": 2,
        "vm2": 2,
        "db": 2,
    }
    lone = await _get(client, agent, ids["backup"], depth=5, view="compact")
    assert (lone["items"], lone["total"]) == ([], 0)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": PAGE_MAX + 1}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 1_000_001}, "offset"),
        ({"view": "ids"}, "view"),
        ({"depth": 11}, "depth"),
        ({"limit": "many"}, "limit"),
    ],
)
async def test_out_of_bounds_paging_is_a_422_problem(
    client: httpx.AsyncClient, auth: Auth, params: dict[str, Any], name: str
) -> None:
    manager = auth("config_manager", subject="cmdb-admin")
    r = await client.post("/api/v1/cis", json={"name": f"b-{uuid.uuid4().hex[:6]}", "type": "server"}, headers=manager)
    r = await client.get(
        f"/api/v1/cis/{r.json()['id']}/impact", params={"view": "compact", **params}, headers=auth("agent")
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert name in r.text
