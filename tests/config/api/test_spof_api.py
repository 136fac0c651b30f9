"""A business service's single points of failure through the API, on PostgreSQL and on SQLite."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.config.app import create_app
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


async def _cmdb(client: httpx.AsyncClient, manager: dict[str, str]) -> dict[str, str]:
    """payments -> api, api2 (redundant instances) -> vm, vm2 -> one host (and the host back to the
    service: a cycle); only api uses the database; a backup of the database is not needed."""
    ids: dict[str, str] = {}
    for name, kind, criticality in [
        ("payments", "business_service", 1),
        ("api", "application_instance", 2),
        ("api2", "application_instance", 2),
        ("vm", "virtual_machine", 3),
        ("vm2", "virtual_machine", 3),
        ("host", "server", 1),
        ("db", "database", 2),
        ("dbbackup", "database", 4),
    ]:
        body = {"name": f"{name}-{uuid.uuid4().hex[:6]}", "type": kind, "criticality": criticality}
        r = await client.post("/api/v1/cis", json=body, headers=manager)
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
        ("db", "backed_up_by", "dbbackup"),
    ]:
        body = {"source_id": ids[source], "type": kind, "target_id": ids[target]}
        r = await client.post("/api/v1/relationships", json=body, headers=manager)
        assert r.status_code == 201, r.text
    return ids


async def test_the_single_points_of_failure_of_a_service(client: httpx.AsyncClient, auth: Auth) -> None:
    manager, agent = auth("config_manager", subject="cmdb-admin"), auth("agent")
    ids = await _cmdb(client, manager)
    names = {v: k for k, v in ids.items()}

    r = await client.get(f"/api/v1/services/{ids['payments']}/single-points-of-failure", headers=agent)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["service_id"] == ids["payments"]
    found = [(names[i["id"]], i["cut_off"], i["types_lost"]) for i in body["items"]]
    # api alone leads to the database (and to vm); the host is the only server; vm and api2 have twins.
    assert found[0] == ("api", 3, ["database"])
    assert sorted(found[1:]) == [("db", 1, ["database"]), ("host", 1, ["server"])]
    assert [i["number"] for i in body["items"][1:]] == sorted(i["number"] for i in body["items"][1:])
    first = body["items"][0]
    assert (first["type"], first["criticality"], first["name"].startswith("api-")) == (
        "application_instance",
        2,
        True,
    )

    # A second database link to api2 makes the database the only way, and api no longer one.
    body = {"source_id": ids["api2"], "type": "depends_on", "target_id": ids["db"]}
    assert (await client.post("/api/v1/relationships", json=body, headers=manager)).status_code == 201
    r = await client.get(f"/api/v1/services/{ids['payments']}/single-points-of-failure", headers=agent)
    assert sorted(names[i["id"]] for i in r.json()["items"]) == ["db", "host"]


async def test_an_unknown_ci_is_404_and_a_ci_that_is_no_service_422(client: httpx.AsyncClient, auth: Auth) -> None:
    manager, agent = auth("config_manager", subject="cmdb-admin"), auth("agent")
    ids = await _cmdb(client, manager)
    r = await client.get(f"/api/v1/services/{uuid.uuid4()}/single-points-of-failure", headers=agent)
    assert r.status_code == 404, r.text
    r = await client.get(f"/api/v1/services/{ids['api']}/single-points-of-failure", headers=agent)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "service_id"


async def test_a_graph_over_the_bound_is_refused_naming_the_service(
    client: httpx.AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, agent = auth("config_manager", subject="cmdb-admin"), auth("agent")
    ids = await _cmdb(client, manager)
    monkeypatch.setattr("services.config.store.spof.MAX_CIS", 5)  # payments reaches 6 CIs
    r = await client.get(f"/api/v1/services/{ids['payments']}/single-points-of-failure", headers=agent)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "service_id"
    monkeypatch.setattr("services.config.store.spof.MAX_CIS", 6)
    r = await client.get(f"/api/v1/services/{ids['payments']}/single-points-of-failure", headers=agent)
    assert r.status_code == 200, r.text
