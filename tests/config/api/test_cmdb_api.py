"""The CMDB API beyond create/list: types, updates with If-Match, history and as_of,
relationships, impact analysis and change control of controlled CIs."""

from __future__ import annotations

import asyncio
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
from services.config.store.tables import ci_version, config_item, outbox
from services.config.worker import HANDLERS
from shared.db import create_engine
from shared.events import EventData, new_event
from shared.events.change import ChangeApproved, ChangeCancelled
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.infra import outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def config_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("config"))


@pytest.fixture
async def client(config_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ConfigSettings, config_db))) as client:
        yield client


@pytest.fixture
def manager(auth: Auth) -> dict[str, str]:
    return auth("config_manager", subject="cmdb-admin")


async def create(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    body = {"name": f"ci-{uuid.uuid4().hex[:8]}", "type": "server", **body}
    r = await client.post("/api/v1/cis", json=body, headers=headers)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def patch(client: httpx.AsyncClient, headers: dict[str, str], ci: dict[str, Any], **body: Any) -> httpx.Response:
    return await client.patch(
        f"/api/v1/cis/{ci['id']}", json=body, headers={**headers, "If-Match": f'W/"{ci["version"]}"'}
    )


async def test_types_are_listed_and_a_new_type_validates_its_cis(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Auth
) -> None:
    listed = (await client.get("/api/v1/ci-types", headers=auth("auditor"))).json()
    assert {"server", "business_service", "document"} <= {t["name"] for t in listed}
    name = f"cluster_{uuid.uuid4().hex[:6]}"
    schema = {"type": "object", "properties": {"nodes": {"type": "integer", "minimum": 1}}, "required": ["nodes"]}
    r = await client.post(
        "/api/v1/ci-types", json={"name": name, "label": "Cluster", "attribute_schema": schema}, headers=manager
    )
    assert r.status_code == 201, r.text
    assert (
        await client.post("/api/v1/ci-types", json={"name": name, "label": "x"}, headers=manager)
    ).status_code == 409
    bad = await client.post("/api/v1/cis", json={"name": "k8s", "type": name, "attributes": {}}, headers=manager)
    assert bad.status_code == 422
    assert bad.json()["errors"] == [{"field": "attributes.nodes", "reason": "'nodes' is a required property"}]
    assert (await create(client, manager, type=name, attributes={"nodes": 3}))["type"] == name
    unknown = await client.post("/api/v1/cis", json={"name": "x", "type": "no_such_type"}, headers=manager)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "type"


async def test_an_attribute_breaking_its_type_is_a_422_naming_it_and_stores_nothing(
    client: httpx.AsyncClient, manager: dict[str, str], config_db: str
) -> None:
    before = await row_counts(config_db, config_item, ci_version, outbox)
    body = {"name": "db9", "type": "database", "attributes": {"engine": "excel", "size_gb": -1}}
    r = await client.post("/api/v1/cis", json=body, headers=manager)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert sorted(e["field"] for e in r.json()["errors"]) == ["attributes.engine", "attributes.size_gb"]
    assert await row_counts(config_db, config_item, ci_version, outbox) == before


async def test_an_update_needs_the_current_version_and_is_recorded_in_history(
    client: httpx.AsyncClient, manager: dict[str, str], config_db: str, auth: Auth
) -> None:
    ci = await create(client, manager, attributes={"cpu_cores": 4})
    url = f"/api/v1/cis/{ci['id']}"
    assert (await client.patch(url, json={"name": "x"}, headers=manager)).status_code == 428
    stale = await client.patch(url, json={"name": "x"}, headers={**manager, "If-Match": 'W/"7"'})
    assert stale.status_code == 412
    r = await patch(client, manager, ci, attributes={"cpu_cores": 8}, owner="ops")
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == 'W/"2"'
    assert r.json()["attributes"] == {"cpu_cores": 8}
    again = await patch(client, manager, ci, name="y")  # still version 1: somebody changed it since
    assert again.status_code == 412

    history = (await client.get(f"{url}/history", headers=auth("auditor"))).json()
    assert [v["version"] for v in history["items"]] == [2, 1]
    latest = history["items"][0]
    assert latest["changes"] == {"attributes.cpu_cores": {"old": 4, "new": 8}, "owner": {"old": None, "new": "ops"}}
    assert latest["actor"] == "cmdb-admin"
    assert latest["cause_kind"] == "manual"
    [event] = [e for e in await outbox_events(config_db, outbox, ci["id"]) if e.type == "itsm.ci.updated.v1"]
    assert event.data["version"] == 2
    assert event.data["changes"]["attributes.cpu_cores"] == {"old": 4, "new": 8}


async def test_as_of_returns_the_ci_as_it_was(client: httpx.AsyncClient, manager: dict[str, str], auth: Auth) -> None:
    ci = await create(client, manager, name="before-rename")
    await asyncio.sleep(0.05)
    between = datetime.now(UTC)
    await asyncio.sleep(0.05)
    assert (await patch(client, manager, ci, name="after-rename")).status_code == 200
    url = f"/api/v1/cis/{ci['id']}"
    then = (await client.get(url, params={"as_of": between.isoformat()}, headers=auth("auditor"))).json()
    assert then["name"] == "before-rename"
    assert then["version"] == 1
    assert (await client.get(url, headers=auth("auditor"))).json()["name"] == "after-rename"
    long_ago = (datetime.now(UTC) - timedelta(days=365)).isoformat()
    assert (await client.get(url, params={"as_of": long_ago}, headers=auth("auditor"))).status_code == 404


async def test_retiring_is_recorded_and_a_retired_ci_cannot_change(
    client: httpx.AsyncClient, manager: dict[str, str]
) -> None:
    ci = await create(client, manager, status="live")
    r = await client.post(f"/api/v1/cis/{ci['id']}/retire", headers={**manager, "If-Match": 'W/"1"'})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "retired"
    refused = await patch(client, manager, r.json(), name="zombie")
    assert refused.status_code == 409
    assert refused.json()["allowed_actions"] == []


async def test_relationships_and_impact_analysis_through_the_api(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Auth
) -> None:
    service = await create(client, manager, type="business_service", name="Payments")
    app = await create(client, manager, type="application_instance", name="payments-api", service_id=service["id"])
    vm = await create(client, manager, type="virtual_machine", name="vm-17")
    host = await create(client, manager, type="server", name="esx-3")

    async def link(source: dict[str, Any], kind: str, target: dict[str, Any]) -> dict[str, Any]:
        body = {"source_id": source["id"], "type": kind, "target_id": target["id"]}
        r = await client.post("/api/v1/relationships", json=body, headers=manager)
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    await link(service, "depends_on", app)
    await link(app, "runs_on", vm)
    on_host = await link(vm, "runs_on", host)
    await link(host, "depends_on", service)  # a cycle back to the top
    duplicate = {"source_id": vm["id"], "type": "runs_on", "target_id": host["id"]}
    assert (await client.post("/api/v1/relationships", json=duplicate, headers=manager)).status_code == 409
    self_link = {"source_id": vm["id"], "type": "runs_on", "target_id": vm["id"]}
    assert (await client.post("/api/v1/relationships", json=self_link, headers=manager)).status_code == 422

    impact = (await client.get(f"/api/v1/cis/{host['id']}/impact", params={"depth": 5}, headers=auth("agent"))).json()
    assert [(a["ci"]["name"], a["distance"]) for a in impact["affected"]] == [
        ("vm-17", 1),
        ("payments-api", 2),
        ("Payments", 3),
    ]
    path = impact["affected"][-1]["path"]
    assert [step["read_as"] for step in path] == ["hosts", "hosts", "used_by"]
    assert [s["name"] for s in impact["business_services"]] == ["Payments"]
    upstream = (
        await client.get(
            f"/api/v1/cis/{service['id']}/impact", params={"direction": "upstream", "depth": 2}, headers=auth("agent")
        )
    ).json()
    assert [a["ci"]["name"] for a in upstream["affected"]] == ["payments-api", "vm-17"]

    relationships = (await client.get(f"/api/v1/cis/{vm['id']}/relationships", headers=auth("agent"))).json()
    assert {(r["type"], r["inverse"]) for r in relationships} == {("runs_on", "hosts")}
    assert len(relationships) == 2
    r = await client.delete(f"/api/v1/relationships/{on_host['id']}", headers=manager)
    assert r.status_code == 204
    impact = (await client.get(f"/api/v1/cis/{host['id']}/impact", headers=auth("agent"))).json()
    assert impact["affected"] == []
    assert (
        await client.get(f"/api/v1/cis/{host['id']}/impact", params={"depth": 11}, headers=manager)
    ).status_code == 422


async def test_a_controlled_ci_changes_only_under_an_approved_change(
    client: httpx.AsyncClient, manager: dict[str, str], config_db: str
) -> None:
    ci = await create(client, manager, controlled=True, status="live")
    before = await row_counts(config_db, config_item, ci_version, outbox)
    refused = await patch(client, manager, ci, owner="someone")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "change_number"
    assert "under change control" in refused.json()["detail"]
    unknown = await patch(client, manager, ci, owner="someone", change_number="CHG0009999")
    assert unknown.status_code == 422
    assert "not known" in unknown.json()["detail"]
    assert await row_counts(config_db, config_item, ci_version, outbox) == before

    number = f"CHG{uuid.uuid4().int % 10_000_000:07d}"
    engine = create_engine(config_db)
    now = datetime.now(UTC)
    async with engine.begin() as conn:  # as the change service's approval event would record it
        await upsert_change_window(
            conn,
            ChangeWindow(
                uuid.uuid4(),
                number,
                "approved",
                now - timedelta(hours=1),
                now + timedelta(hours=1),
                frozenset({uuid.UUID(ci["id"])}),
            ),
            now,
        )
    await engine.dispose()
    touched = (await client.get(f"/api/v1/cis/{ci['id']}/changes", headers=manager)).json()
    assert [c["number"] for c in touched["planned"]] == [number]
    assert touched["applied"] == []
    allowed = await patch(client, manager, ci, owner="someone", change_number=number)
    assert allowed.status_code == 200, allowed.text
    history = (await client.get(f"/api/v1/cis/{ci['id']}/history", headers=manager)).json()
    assert history["items"][0]["cause_kind"] == "change"
    assert history["items"][0]["cause_reference"] == number


async def _consume(config_db: str, data: EventData, subject: str) -> None:
    engine = create_engine(config_db)
    try:
        async with UnitOfWork(engine, outbox, source="/itsm/test") as uow:
            await HANDLERS[data.routing_key](new_event(data, source="/itsm/change", subject=subject), uow)
            await uow.commit()
    finally:
        await engine.dispose()


async def test_a_cancelled_change_no_longer_authorises_edits_of_its_controlled_cis(
    client: httpx.AsyncClient, manager: dict[str, str], config_db: str
) -> None:
    ci = await create(client, manager, controlled=True, status="live")
    change_id, number, now = uuid.uuid4(), f"CHG{uuid.uuid4().int % 10_000_000:07d}", datetime.now(UTC)
    window = {"change_id": change_id, "number": number, "type": "normal", "affected_ci_ids": [ci["id"]]}
    window |= {"planned_start": now - timedelta(hours=1), "planned_end": now + timedelta(hours=1)}
    await _consume(config_db, ChangeApproved.model_validate({**window, "approved_at": now}), str(change_id))
    allowed = await patch(client, manager, ci, owner="first", change_number=number)
    assert allowed.status_code == 200, allowed.text
    ci = allowed.json()
    cancelled = {**window, "status": "cancelled", "previous_status": "approved", "actor": "mike", "occurred_at": now}
    await _consume(config_db, ChangeCancelled.model_validate(cancelled), str(change_id))
    await _consume(config_db, ChangeApproved.model_validate({**window, "approved_at": now}), str(change_id))  # late
    refused = await patch(client, manager, ci, owner="second", change_number=number)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "change_number"
    assert f"change {number} is cancelled" in refused.json()["detail"]
