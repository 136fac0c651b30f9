"""Customers and their agreements against the running configuration service: the customer registry
with If-Match versions, and an SLA's lifecycle (draft -> agreed -> superseded, retired): agreeing
needs an approved change that names the agreement's services, an agreed version is immutable, a
new version supersedes it, and each move is published with its terms."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.config.app import create_app
from services.config.domain.items import ChangeWindow
from services.config.settings import ConfigSettings
from services.config.store.change_control import upsert_change_window
from services.config.store.tables import agreement, outbox
from shared.db import create_engine
from tests.conftest import running
from tests.infra import outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]
CMDB: dict[str, str] = {}
"""The configuration manager's headers (who registers the catalogue's services), set by `manager`."""


@pytest.fixture
async def config_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("config"))


@pytest.fixture
async def client(config_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ConfigSettings, config_db))) as client:
        yield client


@pytest.fixture
def manager(auth: Auth) -> dict[str, str]:
    CMDB.update(auth("config_manager", subject="cmdb"))
    return auth("service_level_manager", subject="slm")


async def service(client: httpx.AsyncClient, _: dict[str, str]) -> str:
    body = {"name": f"svc-{uuid.uuid4().hex[:8]}", "type": "business_service"}
    r = await client.post("/api/v1/cis", json=body, headers=CMDB)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def customer(client: httpx.AsyncClient, manager: dict[str, str], *service_ids: str) -> dict[str, Any]:
    body = {
        "name": f"Acme {uuid.uuid4().hex[:6]}",
        "relationship_manager": "rita",
        "contacts": [{"name": "Carl", "email": "carl@acme.example", "role": "IT lead"}],
        "service_ids": list(service_ids),
        "user_groups": ["acme-users"],
        "interested_parties": ["Acme finance"],
        "review_interval_days": 90,
    }
    r = await client.post("/api/v1/customers", json=body, headers=manager)
    assert r.status_code == 201, r.text
    return dict(r.json())


def sla_body(customer_id: str, *service_ids: str, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "sla",
        "title": "Acme standard support",
        "customer_id": customer_id,
        "service_ids": list(service_ids),
        "targets": [
            {"priority": 1, "response_minutes": 15, "resolution_minutes": 240},
            {"priority": 3, "response_minutes": 60, "resolution_minutes": 1440},
        ],
        "availability_pct": 99.5,
        "calendar": "office-hours",
        "exclusions": ["planned maintenance announced 5 days ahead"],
        "review_date": (date.today() + timedelta(days=180)).isoformat(),
        **changes,
    }


async def approved_change(config_db: str, *ci_ids: str, status: str = "approved") -> str:
    """A change as config's change-control read model learns it from `change.approved.v1`."""
    number = f"CHG{uuid.uuid4().int % 10_000_000:07d}"
    now = datetime.now(UTC)
    window = ChangeWindow(
        uuid.uuid4(),
        number,
        status,
        now - timedelta(hours=1),
        now + timedelta(hours=1),
        frozenset(map(uuid.UUID, ci_ids)),
    )
    engine = create_engine(config_db)
    async with engine.begin() as conn:
        await upsert_change_window(conn, window, now)
    await engine.dispose()
    return number


async def move(
    client: httpx.AsyncClient, headers: dict[str, str], record: dict[str, Any], action: str, **body: Any
) -> httpx.Response:
    tag = {"If-Match": f'W/"{record["version"]}"'}
    return await client.post(f"/api/v1/agreements/{record['id']}/{action}", json=body, headers={**headers, **tag})


async def test_the_customer_registry_keeps_versions_and_refuses_bad_input(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Auth
) -> None:
    svc = await service(client, manager)
    acme = await customer(client, manager, svc)
    assert acme["number"].startswith("CUS") and acme["service_ids"] == [svc]
    assert acme["next_review"] == (date.today() + timedelta(days=90)).isoformat()
    url = f"/api/v1/customers/{acme['id']}"
    assert (await client.patch(url, json={"relationship_manager": "sam"}, headers=manager)).status_code == 428
    r = await client.patch(url, json={"relationship_manager": "sam"}, headers={**manager, "If-Match": 'W/"1"'})
    assert r.status_code == 200 and r.headers["etag"] == 'W/"2"' and r.json()["relationship_manager"] == "sam"
    stale = await client.patch(url, json={"relationship_manager": "x"}, headers={**manager, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    reviewed = await client.post(
        f"{url}/reviews", json={"reviewed_on": "2026-01-10"}, headers={**manager, "If-Match": 'W/"2"'}
    )
    assert reviewed.json()["next_review"] == "2026-04-10"
    not_a_service = await client.patch(
        url, json={"service_ids": [str(uuid.uuid4())]}, headers={**manager, "If-Match": 'W/"3"'}
    )
    assert not_a_service.status_code == 422 and not_a_service.json()["errors"][0]["field"] == "service_ids.0"
    too_long = await client.post(
        "/api/v1/customers", json={"name": "x" * 201, "relationship_manager": "r"}, headers=manager
    )
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "name"
    found = await client.get("/api/v1/customers", params={"q": acme["name"][5:], "limit": 5}, headers=auth("agent"))
    assert [c["id"] for c in found.json()["items"]] == [acme["id"]]
    assert (await client.get("/api/v1/customers", params={"limit": 1001}, headers=manager)).status_code == 422
    assert (await client.post("/api/v1/customers", json={}, headers=auth("agent"))).status_code == 403
    assert (await client.post("/api/v1/customers", json={}, headers=CMDB)).status_code == 403
    assert (await client.get("/api/v1/customers", headers=auth("requester"))).status_code == 403


async def test_an_sla_is_agreed_only_under_an_approved_change_and_a_new_version_supersedes_it(
    client: httpx.AsyncClient, manager: dict[str, str], config_db: str, auth: Auth
) -> None:
    svc, other = await service(client, manager), await service(client, manager)
    acme = await customer(client, manager, svc)
    outside = await client.post("/api/v1/agreements", json=sla_body(acme["id"], other), headers=manager)
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "service_ids.0"
    bad = sla_body(acme["id"], svc, targets=[{"priority": 2, "response_minutes": 90, "resolution_minutes": 60}])
    refused = await client.post("/api/v1/agreements", json=bad, headers=manager)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "targets.0.response_minutes"
    r = await client.post("/api/v1/agreements", json=sla_body(acme["id"], svc), headers=manager)
    assert r.status_code == 201, r.text
    draft = r.json()
    assert (draft["number"][:3], draft["document_version"], draft["status"]) == ("SLA", 1, "draft")
    assert draft["allowed_actions"] == ["agree", "retire"]

    before = await row_counts(config_db, agreement, outbox)
    no_change = await move(client, manager, draft, "agree")
    assert no_change.status_code == 422 and no_change.json()["errors"][0]["field"] == "change_number"
    unknown = await move(client, manager, draft, "agree", change_number="CHG0000000")
    assert unknown.status_code == 422 and "not known" in unknown.json()["detail"]
    elsewhere = await approved_change(config_db, other)
    wrong = await move(client, manager, draft, "agree", change_number=elsewhere)
    assert wrong.status_code == 422 and "does not list" in wrong.json()["detail"]
    rejected = await approved_change(config_db, svc, status="draft")
    not_approved = await move(client, manager, draft, "agree", change_number=rejected)
    assert not_approved.status_code == 422 and "not approved" in not_approved.json()["detail"]
    assert await row_counts(config_db, agreement, outbox) == before

    change = await approved_change(config_db, svc)
    agreed = await move(client, manager, draft, "agree", change_number=change)
    assert agreed.status_code == 200, agreed.text
    v1 = agreed.json()
    assert (v1["status"], v1["change_number"], v1["agreed_by"]) == ("agreed", change, "slm")
    immutable = await client.patch(
        f"/api/v1/agreements/{v1['id']}", json={"availability_pct": 99.9}, headers={**manager, "If-Match": 'W/"2"'}
    )
    assert immutable.status_code == 409 and "immutable" in immutable.json()["detail"]
    [published] = [e for e in await outbox_events(config_db, outbox, v1["id"]) if e.type.endswith("agreed.v1")]
    assert published.data["customer_name"] == acme["name"]
    assert published.data["targets"][0] == {"priority": 1, "response_minutes": 15, "resolution_minutes": 240}

    r = await client.post(f"/api/v1/agreements/{v1['id']}/versions", headers=manager)
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert (v2["number"], v2["document_version"], v2["status"]) == (v1["number"], 2, "draft")
    twice = await client.post(f"/api/v1/agreements/{v1['id']}/versions", headers=manager)
    assert twice.status_code == 409
    edited = await client.patch(
        f"/api/v1/agreements/{v2['id']}", json={"availability_pct": 99.9}, headers={**manager, "If-Match": 'W/"1"'}
    )
    assert edited.status_code == 200 and edited.json()["availability_pct"] == 99.9
    agreed2 = await move(client, manager, edited.json(), "agree", change_number=change)
    assert agreed2.status_code == 200, agreed2.text
    old = (await client.get(f"/api/v1/agreements/{v1['id']}", headers=auth("auditor"))).json()
    assert (old["status"], old["superseded_by"]) == ("superseded", v2["id"])
    [superseded] = [e for e in await outbox_events(config_db, outbox, v1["id"]) if e.type.endswith("superseded.v1")]
    assert superseded.data["superseded_by"] == v2["id"]
    listed = await client.get("/api/v1/agreements", params={"number": v1["number"]}, headers=manager)
    assert [(a["document_version"], a["status"]) for a in listed.json()["items"]] == [(1, "superseded"), (2, "agreed")]

    retire_unchanged = await move(client, manager, agreed2.json(), "retire")
    assert retire_unchanged.status_code == 422
    retired = await move(client, manager, agreed2.json(), "retire", change_number=change)
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    assert (await move(client, manager, retired.json(), "agree", change_number=change)).status_code == 409
    assert (
        await client.post("/api/v1/agreements", json=sla_body(acme["id"], svc), headers=auth("agent"))
    ).status_code == 403


async def test_an_ola_is_made_with_an_internal_group(client: httpx.AsyncClient, manager: dict[str, str]) -> None:
    svc = await service(client, manager)
    body = sla_body("", svc, kind="ola", group="network-team")
    del body["customer_id"]
    r = await client.post("/api/v1/agreements", json=body, headers=manager)
    assert r.status_code == 201, r.text
    assert (r.json()["number"][:3], r.json()["group"], r.json()["customer_id"]) == ("OLA", "network-team", None)
    without = await client.post("/api/v1/agreements", json={**body, "group": None}, headers=manager)
    assert without.status_code == 422 and without.json()["errors"][0]["field"] == "group"
