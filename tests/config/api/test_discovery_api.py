"""Discovery runs through the API: identification, creation, updates, unauthorised changes,
idempotent repeats, relationships and the stored report."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.config.app import create_app
from services.config.domain.items import ChangeWindow
from services.config.settings import ConfigSettings
from services.config.store.change_control import upsert_change_window
from services.config.store.tables import ci_version, outbox
from shared.db import create_engine
from tests.conftest import running
from tests.infra import outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def config_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("config"))


@pytest.fixture
async def client(config_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ConfigSettings, config_db, max_body_bytes=4096))) as client:
        yield client


@pytest.fixture
def headers(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("config_manager", subject="scanner")


def host(tag: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "key": f"{tag}-{name}",
        "type": "server",
        "name": name,
        "identifiers": {"hostname": f"{name}-{tag}"},
        **extra,
    }


async def discover(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/discovery/runs", json={"source": "scanner-eu", **body}, headers=headers)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def test_a_first_run_creates_a_repeat_changes_nothing_and_a_difference_updates(
    client: httpx.AsyncClient, headers: dict[str, str], config_db: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    items = [host(tag, "web1", attributes={"cpu_cores": 4}), host(tag, "web2"), host(tag, "db1")]
    relationships = [{"source": f"{tag}-web1", "type": "depends_on", "target": f"{tag}-db1"}]
    first = await discover(client, headers, items=items, relationships=relationships)
    assert first["counts"]["created"] == 3
    assert first["counts"]["relationships_added"] == 1
    assert {i["outcome"] for i in first["items"]} == {"created"}
    web1 = next(i for i in first["items"] if i["key"] == f"{tag}-web1")

    versions = await row_counts(config_db, ci_version)
    again = await discover(client, headers, items=items, relationships=relationships)
    assert again["counts"]["unchanged"] == 3
    assert again["counts"]["created"] == again["counts"]["updated"] == again["counts"]["relationships_added"] == 0
    assert again["items"] == []  # only what was not unchanged is listed
    assert await row_counts(config_db, ci_version) == versions  # idempotent: no new version

    # Hostnames compare without case, and observed attributes merge into the recorded ones.
    changed = [{**items[0], "identifiers": {"hostname": f"WEB1-{tag}".upper()}, "attributes": {"memory_gb": 16}}]
    third = await discover(client, headers, items=changed)
    assert third["counts"]["updated"] == 1
    [update] = third["items"]
    assert update["ci_id"] == web1["ci_id"]
    assert update["changes"] == {"attributes.memory_gb": {"old": None, "new": 16}}
    ci = (await client.get(f"/api/v1/cis/{web1['ci_id']}", headers=headers)).json()
    assert ci["attributes"] == {"cpu_cores": 4, "memory_gb": 16}
    history = (await client.get(f"/api/v1/cis/{web1['ci_id']}/history", headers=headers)).json()["items"]
    assert history[0]["cause_kind"] == "discovery"
    assert history[0]["cause_reference"].startswith(f"scanner-eu:{third['id']}")

    stored = (await client.get(f"/api/v1/discovery/runs/{third['id']}", headers=headers)).json()
    assert stored == third
    listed = (await client.get("/api/v1/discovery/runs", params={"source": "scanner-eu"}, headers=headers)).json()
    assert third["id"] in [r["id"] for r in listed["items"]]


async def test_a_controlled_ci_that_differs_without_a_change_is_an_unauthorised_change_published_once(
    client: httpx.AsyncClient, headers: dict[str, str], config_db: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    body = {"name": "core-db", "type": "database", "controlled": True, "attributes": {"engine": "postgresql"}}
    body["identifiers"] = {"serial": f"SN-{tag}"}
    ci = (await client.post("/api/v1/cis", json=body, headers=headers)).json()
    observed = [
        {
            "key": "db",
            "type": "database",
            "name": "core-db",
            "identifiers": {"serial": f"SN-{tag}"},
            "attributes": {"engine_version": "17"},
        }
    ]
    versions = await row_counts(config_db, ci_version)
    run = await discover(client, headers, items=observed)
    assert run["counts"]["unauthorised"] == 1
    [finding] = run["items"]
    assert finding["changes"] == {"attributes.engine_version": {"old": None, "new": "17"}}
    assert (await client.get(f"/api/v1/cis/{ci['id']}", headers=headers)).json()["attributes"] == {
        "engine": "postgresql"
    }
    assert await row_counts(config_db, ci_version) == versions
    published = [e for e in await outbox_events(config_db, outbox, ci["id"]) if "unauthorised" in e.type]
    assert len(published) == 1
    assert published[0].data["differences"] == finding["changes"]

    repeat = await discover(client, headers, items=observed)
    assert repeat["counts"]["unauthorised"] == 1
    assert "(known)" in repeat["items"][0]["detail"]
    assert len([e for e in await outbox_events(config_db, outbox, ci["id"]) if "unauthorised" in e.type]) == 1

    # With an approved change open for it, the same observation is applied.
    engine = create_engine(config_db)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        window = ChangeWindow(
            uuid.uuid4(),
            f"CHG{uuid.uuid4().int % 10**7:07d}",
            "approved",
            now - timedelta(hours=1),
            now + timedelta(hours=1),
            frozenset({uuid.UUID(ci["id"])}),
        )
        await upsert_change_window(conn, window, now)
    await engine.dispose()
    allowed = await discover(client, headers, items=observed)
    assert allowed["counts"]["updated"] == 1


async def test_bad_items_are_reported_and_the_rest_is_applied(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    a = (
        await client.post(
            "/api/v1/cis", json={"name": "a", "type": "server", "identifiers": {"serial": f"A{tag}"}}, headers=headers
        )
    ).json()
    b = (
        await client.post(
            "/api/v1/cis", json={"name": "b", "type": "server", "identifiers": {"hostname": f"b{tag}"}}, headers=headers
        )
    ).json()
    items = [
        {
            "key": "ambiguous",
            "type": "server",
            "name": "x",
            "identifiers": {"serial": f"A{tag}", "hostname": f"b{tag}"},
        },
        {"key": "badtype", "type": "toaster", "name": "t", "identifiers": {"serial": f"T{tag}"}},
        {
            "key": "badattr",
            "type": "server",
            "name": "s",
            "identifiers": {"serial": f"S{tag}"},
            "attributes": {"cpu_cores": 0},
        },
        {"key": "good", "type": "server", "name": "g", "identifiers": {"serial": f"G{tag}"}},
    ]
    relationships = [{"source": "good", "type": "runs_on", "target": "missing"}]
    run = await discover(client, headers, items=items, relationships=relationships)
    outcomes = {i["key"]: i["outcome"] for i in run["items"]}
    assert outcomes == {"ambiguous": "error", "badtype": "error", "badattr": "error", "good": "created"}
    details = {i["key"]: i["detail"] for i in run["items"]}
    assert a["number"] in details["ambiguous"] and b["number"] in details["ambiguous"]
    assert "toaster" in details["badtype"]
    assert "cpu_cores" in details["badattr"]
    assert run["relationship_errors"] == ["missing: no CI for this key in the run"]


async def test_a_run_is_a_bulk_request_bounded_apart_from_the_others(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    items = [host(tag, f"n{i}", attributes={"note": "x" * 50}) for i in range(60)]  # ~9 kB, over the 4 kB bound
    run = await discover(client, headers, items=items)
    assert run["counts"]["created"] == 60
    big = {"name": "x", "type": "server", "description": "x" * 5000}
    assert (await client.post("/api/v1/cis", json=big, headers=headers)).status_code == 413
    duplicate_keys = {"source": "s", "items": [host(tag, "dup"), host(tag, "dup")]}
    r = await client.post("/api/v1/discovery/runs", json=duplicate_keys, headers=headers)
    assert r.status_code == 422


async def test_a_ci_observed_twice_in_one_run_with_other_values_keeps_the_first(
    client: httpx.AsyncClient, headers: dict[str, str], config_db: str
) -> None:
    """Two items of one run naming the same known CI (other keys) answered 412: the CI was updated
    twice in memory and its save saw a stale version (found by fuzzing)."""
    tag = uuid.uuid4().hex[:6]
    (known,) = (await discover(client, headers, items=[host(tag, "app1")]))["items"]
    first = host(tag, "app1", key="first", attributes={"cpu_cores": 2})
    second = host(tag, "app1", key="second", attributes={"cpu_cores": 8})
    versions = await row_counts(config_db, ci_version)
    run = await discover(client, headers, items=[first, second])
    outcomes = {i["key"]: (i["outcome"], i.get("ci_id")) for i in run["items"]}
    assert outcomes == {"first": ("updated", known["ci_id"]), "second": ("error", known["ci_id"])}
    assert "first" in next(i["detail"] for i in run["items"] if i["key"] == "second")
    assert await row_counts(config_db, ci_version) == (versions[0] + 1,)
    ci = (await client.get(f"/api/v1/cis/{known['ci_id']}", headers=headers)).json()
    assert ci["attributes"]["cpu_cores"] == 2
    same_again = await discover(client, headers, items=[first, {**first, "key": "again"}])
    assert same_again["counts"]["unchanged"] == 2
