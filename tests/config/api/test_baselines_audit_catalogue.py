"""Baselines and their comparison, the configuration audit, and the service catalogue."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from services.config.app import create_app
from services.config.settings import ConfigSettings
from services.config.store.tables import ci_version, config_item
from shared.db import create_engine
from tests.conftest import running

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def config_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("config"))


@pytest.fixture
async def client(config_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ConfigSettings, config_db))) as client:
        yield client


@pytest.fixture
def headers(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("config_manager")


async def make(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/cis", json={"type": "server", **body}, headers=headers)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def link(client: httpx.AsyncClient, headers: dict[str, str], source: Any, kind: str, target: Any) -> None:
    body = {"source_id": source["id"], "type": kind, "target_id": target["id"]}
    assert (await client.post("/api/v1/relationships", json=body, headers=headers)).status_code == 201


async def test_a_baseline_of_a_service_and_its_diff_list_exactly_what_changed(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    service = await make(client, headers, type="business_service", name=f"Mail {tag}")
    app = await make(client, headers, type="application_instance", name=f"mail-app {tag}")
    vm = await make(client, headers, type="virtual_machine", name=f"mail-vm {tag}", attributes={"cpu_cores": 2})
    member = await make(client, headers, name=f"mail-relay {tag}", service_id=service["id"])
    unrelated = await make(client, headers, name=f"other {tag}")
    await link(client, headers, service, "depends_on", app)
    await link(client, headers, app, "runs_on", vm)

    r = await client.post("/api/v1/baselines", json={"name": "before", "service_id": service["id"]}, headers=headers)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["item_count"] == 4  # the service, what it depends on, and its member
    unchanged = (await client.get(f"/api/v1/baselines/{first['id']}/compare", headers=headers)).json()
    assert unchanged["changed"] == unchanged["added"] == unchanged["removed"] == []
    assert unchanged["unchanged"] == 4

    patched = await client.patch(
        f"/api/v1/cis/{vm['id']}", json={"attributes": {"cpu_cores": 4}}, headers={**headers, "If-Match": 'W/"1"'}
    )
    assert patched.status_code == 200
    await client.patch(f"/api/v1/cis/{unrelated['id']}", json={"owner": "x"}, headers={**headers, "If-Match": 'W/"1"'})
    retired = await client.post(f"/api/v1/cis/{member['id']}/retire", headers={**headers, "If-Match": 'W/"1"'})
    assert retired.status_code == 200

    now = (await client.get(f"/api/v1/baselines/{first['id']}/compare", params={"with": "now"}, headers=headers)).json()
    assert {c["ci_id"]: c["changes"] for c in now["changed"]} == {
        vm["id"]: {"attributes.cpu_cores": {"old": 2, "new": 4}},
        member["id"]: {"status": {"old": "planned", "new": "retired"}},
    }
    assert now["unchanged"] == 2

    new_db = await make(client, headers, type="database", name=f"mail-db {tag}")
    await link(client, headers, app, "depends_on", new_db)
    second = (
        await client.post("/api/v1/baselines", json={"name": "after", "service_id": service["id"]}, headers=headers)
    ).json()
    between = (
        await client.get(f"/api/v1/baselines/{first['id']}/compare", params={"with": second["id"]}, headers=headers)
    ).json()
    assert [c["id"] for c in between["added"]] == [new_db["id"]]
    assert between["removed"] == []
    assert {c["ci_id"] for c in between["changed"]} == {vm["id"], member["id"]}
    bad = await client.get(f"/api/v1/baselines/{first['id']}/compare", params={"with": "yesterday"}, headers=headers)
    assert bad.status_code == 422
    by_query = await client.post("/api/v1/baselines", json={"name": "all dbs", "type": "database"}, headers=headers)
    assert by_query.json()["item_count"] >= 1
    nothing = await client.post("/api/v1/baselines", json={"name": "?"}, headers=headers)
    assert nothing.status_code == 422


async def test_the_audit_lists_findings_unseen_cis_and_controlled_edits_made_without_a_change(
    client: httpx.AsyncClient, headers: dict[str, str], config_db: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    observed = {"key": "k", "type": "server", "name": "s", "identifiers": {"serial": f"AU{tag}"}}
    run = await client.post(
        "/api/v1/discovery/runs", json={"source": "audit-test", "items": [observed]}, headers=headers
    )
    ci_id = run.json()["items"][0]["ci_id"]
    engine = create_engine(config_db)
    async with engine.begin() as conn:  # discovery saw it 40 days ago, not since; it is controlled now
        await conn.execute(
            update(config_item)
            .where(config_item.c.id == uuid.UUID(ci_id))
            .values(last_seen_at=datetime.now(UTC) - timedelta(days=40), controlled=True)
        )
    await engine.dispose()
    changed = {**observed, "attributes": {"os": "Debian"}}
    await client.post("/api/v1/discovery/runs", json={"source": "audit-test", "items": [changed]}, headers=headers)
    # The run saw it again; make it old once more to appear as not seen.
    engine = create_engine(config_db)
    async with engine.begin() as conn:
        await conn.execute(
            update(config_item)
            .where(config_item.c.id == uuid.UUID(ci_id))
            .values(last_seen_at=datetime.now(UTC) - timedelta(days=40))
        )
    await engine.dispose()

    audit = (await client.get("/api/v1/audit", params={"not_seen_days": 30}, headers=headers)).json()
    assert ci_id in [f["ci_id"] for f in audit["differs_from_observed"]]
    [finding] = [f for f in audit["differs_from_observed"] if f["ci_id"] == ci_id]
    assert finding["differences"] == {"attributes.os": {"old": None, "new": "Debian"}}
    assert ci_id in [n["id"] for n in audit["not_seen"]]
    fresh = (await client.get("/api/v1/audit", params={"not_seen_days": 60}, headers=headers)).json()
    assert ci_id not in [n["id"] for n in fresh["not_seen"]]


async def test_the_service_catalogue_lists_business_services_with_what_supports_them(
    client: httpx.AsyncClient, headers: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    tag = uuid.uuid4().hex[:6]
    attributes = {"service_hours": "24x7", "sla_tier": "gold", "description": "Card payments"}
    service = await make(
        client, headers, type="business_service", name=f"Payments {tag}", owner="cfo", attributes=attributes
    )
    db = await make(client, headers, type="database", name=f"pay-db {tag}", service_id=service["id"])
    await link(client, headers, service, "depends_on", db)
    catalogue = (await client.get("/api/v1/services", params={"limit": 200}, headers=auth("requester"))).json()
    [entry] = [s for s in catalogue["items"] if s["id"] == service["id"]]
    assert entry["service_hours"] == "24x7"
    assert entry["sla_tier"] == "gold"
    assert entry["description"] == "Card payments"
    assert entry["member_count"] == 1
    assert all(s["number"].startswith("CI") for s in catalogue["items"])
    # What a service runs on is the CMDB: staff read it, a requester sees the offering only.
    assert (await client.get(f"/api/v1/services/{service['id']}", headers=auth("requester"))).status_code == 403
    detail = (await client.get(f"/api/v1/services/{service['id']}", headers=auth("agent"))).json()
    assert [s["ci"]["id"] for s in detail["supporting"]] == [db["id"]]
    assert (await client.get(f"/api/v1/services/{db['id']}", headers=headers)).status_code == 404


async def test_the_audit_lists_a_controlled_ci_changed_by_something_other_than_a_change(
    client: httpx.AsyncClient, headers: dict[str, str], config_db: str
) -> None:
    ci = await make(client, headers, name=f"ctl-{uuid.uuid4().hex[:6]}", controlled=True)
    engine = create_engine(config_db)
    async with engine.begin() as conn:  # a version made around change control (say, by hand in the database)
        snapshot = {**ci, "owner": "someone", "version": 2}
        await conn.execute(
            ci_version.insert().values(
                ci_id=uuid.UUID(ci["id"]),
                version=2,
                recorded_at=datetime.now(UTC),
                actor="dba",
                cause_kind="manual",
                cause_reference=None,
                changes={"owner": {"old": None, "new": "someone"}},
                snapshot=snapshot,
            )
        )
    await engine.dispose()
    r = await client.get("/api/v1/audit", headers=headers)
    assert r.status_code == 200, r.text
    [edit] = [e for e in r.json()["controlled_changed_without_change"] if e["ci_id"] == ci["id"]]
    assert (edit["actor"], edit["cause_kind"], edit["version"]) == ("dba", "manual", 2)
