"""The external-party access register through the API on the run's PostgreSQL: request, grant,
review, revoke, the register's lists, and what is refused (fields named, 409 with the allowed
actions, a contract of another supplier)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from services.supplier.app import create_app
from services.supplier.settings import SupplierSettings
from services.supplier.store.tables import outbox
from shared.events.supplier import SupplierAccessGranted, SupplierAccessRevoked
from tests.conftest import running
from tests.infra import outbox_events
from tests.supplier.api.helpers import NOW, Auth, known_cis, new_contract, new_supplier

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/access-grants"


@pytest.fixture(scope="module")
async def supplier_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("supplier"))


@pytest.fixture
async def client(supplier_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(SupplierSettings, supplier_db, run_worker=False))) as client:
        yield client


def grant_body(contract_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "contract_id": contract_id,
        "legal_basis": "Data processing agreement, clause 7",
        "system": "payroll database",
        "access_type": "remote_support",
        "classification": "confidential",
        "purpose": "Third-line support of the payroll system",
        "holders": ["anna@vendor.example", "bert@vendor.example"],
        "owner": "olga",
        "expires_on": (NOW + timedelta(days=365)).isoformat(),
        "review_interval_days": 90,
        **fields,
    }


async def supplier_with_contract(client: httpx.AsyncClient, auth: Auth, *, active: bool = True) -> tuple[str, str]:
    supplier = await new_supplier(client, auth)
    contract = await new_contract(client, auth, supplier["id"])
    if active:
        r = await client.post(f"/api/v1/contracts/{contract['id']}/activate", headers=auth("supplier_manager"))
        assert r.status_code == 200, r.text
    return supplier["id"], contract["id"]


async def request(client: httpx.AsyncClient, auth: Auth, supplier_id: str, contract_id: str, **fields: Any) -> Any:
    r = await client.post(
        f"/api/v1/suppliers/{supplier_id}/access-grants",
        json=grant_body(contract_id, **fields),
        headers=auth("supplier_manager", subject="ivan"),
    )
    assert r.status_code == 201, r.text
    return r


async def test_a_grant_is_requested_granted_and_listed_in_the_register(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    supplier_id, contract_id = await supplier_with_contract(client, auth)
    [service] = await known_cis(supplier_db, 1)
    r = await request(client, auth, supplier_id, contract_id, service_id=service)
    item = r.json()
    assert item["number"].startswith("ACC") and item["status"] == "requested" and item["version"] == 1
    assert (item["requested_by"], item["service_id"], item["next_review_on"]) == ("ivan", service, None)
    assert item["allowed_actions"] == ["grant", "revoke"]
    assert r.headers["location"] == f"{URL}/{item['id']}" and r.headers["etag"] == 'W/"1"'
    assert await outbox_events(supplier_db, outbox, item["id"]) == []  # a request publishes nothing

    manager = auth("supplier_manager", subject="olga")
    granted = await client.post(f"{URL}/{item['id']}/grant", json={"note": "CISO approved"}, headers=manager)
    assert granted.status_code == 200, granted.text
    read = granted.json()
    assert (read["status"], read["granted_by"], read["version"]) == ("granted", "olga", 2)
    granted_on = datetime.fromisoformat(read["granted_on"])
    assert datetime.fromisoformat(read["next_review_on"]) == granted_on + timedelta(days=90)
    [event] = await outbox_events(supplier_db, outbox, item["id"])
    data = event.data_as(SupplierAccessGranted)
    assert (str(data.supplier_id), str(data.contract_id), data.holders) == (
        supplier_id,
        contract_id,
        ["anna@vendor.example", "bert@vendor.example"],
    )
    assert (data.classification, data.access_type, data.actor) == ("confidential", "remote_support", "olga")

    auditor = auth("auditor")
    assert (await client.get(f"{URL}/{item['id']}", headers=auditor)).json() == read
    page = (await client.get(f"/api/v1/suppliers/{supplier_id}/access-grants", headers=auditor)).json()
    assert [g["id"] for g in page["items"]] == [item["id"]] and page["total"] == 1
    across = await client.get(URL, params={"supplier_id": supplier_id, "status": "requested"}, headers=auditor)
    assert across.json()["total"] == 0
    assert (await client.get(URL, params={"limit": 1001}, headers=auditor)).status_code == 422
    history = (await client.get(f"{URL}/{item['id']}/history", headers=auditor)).json()
    assert [h["action"] for h in history if h["field"] == "status"] == ["request", "grant"]


async def test_bad_input_names_each_field(client: httpx.AsyncClient, auth: Auth, supplier_db: str) -> None:
    supplier_id, contract_id = await supplier_with_contract(client, auth)
    path = f"/api/v1/suppliers/{supplier_id}/access-grants"
    manager = auth("supplier_manager")

    async def fields(body: dict[str, Any]) -> list[str]:
        r = await client.post(path, json=body, headers=manager)
        assert r.status_code == 422, r.text
        return sorted(e["field"].rsplit(".", 1)[-1] for e in r.json()["errors"])

    assert await fields(grant_body(contract_id, access_type="god_mode", holders=[])) == ["access_type", "holders"]
    assert await fields(grant_body(contract_id, holders=["x" * 201])) == ["0"]
    assert await fields(grant_body(contract_id, system="", review_interval_days=731)) == ["review_interval_days"]
    assert await fields(grant_body(contract_id, system="")) == ["system"]  # nothing named as accessed
    past = (NOW - timedelta(days=1)).isoformat()
    assert await fields(grant_body(contract_id, expires_on=past)) == ["expires_on"]
    assert await fields(grant_body(contract_id, ci_id=(await known_cis(supplier_db, 1, status="retired"))[0])) == [
        "ci_id"
    ]
    unknown = await client.post(
        "/api/v1/suppliers/00000000-0000-0000-0000-000000000000/access-grants",
        json=grant_body(contract_id),
        headers=manager,
    )
    assert unknown.status_code == 404


async def test_the_contract_must_be_the_suppliers_own_and_in_force_to_grant(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    supplier_id, _ = await supplier_with_contract(client, auth)
    _, others = await supplier_with_contract(client, auth)
    manager = auth("supplier_manager")
    refused = await client.post(
        f"/api/v1/suppliers/{supplier_id}/access-grants", json=grant_body(others), headers=manager
    )
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["contract_id"]

    draft_supplier, draft = await supplier_with_contract(client, auth, active=False)
    item = (await request(client, auth, draft_supplier, draft)).json()
    not_in_force = await client.post(f"{URL}/{item['id']}/grant", headers=manager)
    assert not_in_force.status_code == 422, not_in_force.text
    assert [e["field"] for e in not_in_force.json()["errors"]] == ["contract_id"]
    assert (await client.get(f"{URL}/{item['id']}", headers=manager)).json()["status"] == "requested"


async def test_a_bad_transition_is_409_with_the_allowed_actions(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    supplier_id, contract_id = await supplier_with_contract(client, auth)
    item = (await request(client, auth, supplier_id, contract_id)).json()
    manager = auth("supplier_manager")
    early = await client.post(f"{URL}/{item['id']}/review", json={"outcome": "keep"}, headers=manager)
    assert early.status_code == 409, early.text
    assert early.headers["content-type"] == "application/problem+json"
    assert early.json()["allowed_actions"] == ["grant", "revoke"]

    revoked = await client.post(f"{URL}/{item['id']}/revoke", json={"reason": "not needed after all"}, headers=manager)
    assert revoked.json()["status"] == "revoked" and revoked.json()["allowed_actions"] == []
    [event] = await outbox_events(supplier_db, outbox, item["id"])
    assert event.data_as(SupplierAccessRevoked).reason == "not needed after all"
    again = await client.post(f"{URL}/{item['id']}/grant", headers=manager)
    assert again.status_code == 409 and again.json()["allowed_actions"] == []


async def test_a_review_records_the_reviewer_and_moves_the_next_review_date(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    supplier_id, contract_id = await supplier_with_contract(client, auth)
    item = (await request(client, auth, supplier_id, contract_id, review_interval_days=30)).json()
    manager = auth("supplier_manager", subject="rita")
    base = f"{URL}/{item['id']}"
    granted = (await client.post(f"{base}/grant", headers=manager)).json()

    stale = await client.post(f"{base}/review", json={"outcome": "keep"}, headers={**manager, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    no_reason = await client.post(f"{base}/review", json={"outcome": "reduce"}, headers=manager)
    assert no_reason.status_code == 422 and [e["field"] for e in no_reason.json()["errors"]] == ["notes"]

    reduced = await client.post(
        f"{base}/review",
        json={"outcome": "reduce", "notes": "bert left the vendor", "holders": ["anna@vendor.example"]},
        headers={**manager, "If-Match": 'W/"2"'},
    )
    assert reduced.status_code == 200, reduced.text
    read = reduced.json()
    assert (read["status"], read["holders"], read["version"]) == ("granted", ["anna@vendor.example"], 3)
    assert (read["last_reviewed_by"], read["last_review_outcome"], read["last_review_notes"]) == (
        "rita",
        "reduce",
        "bert left the vendor",
    )
    reviewed_on = datetime.fromisoformat(read["last_reviewed_on"])
    assert datetime.fromisoformat(read["next_review_on"]) == reviewed_on + timedelta(days=30)
    assert read["next_review_on"] != granted["next_review_on"]

    ended = await client.post(f"{base}/review", json={"outcome": "revoke", "notes": "project over"}, headers=manager)
    assert ended.json()["status"] == "revoked" and ended.json()["ended_reason"] == "project over"
    types = [e.type.removeprefix("itsm.") for e in await outbox_events(supplier_db, outbox, item["id"])]
    assert types == ["supplier.access_granted.v1", "supplier.access_revoked.v1"]


async def test_terminating_a_contract_revokes_the_open_access_resting_on_it(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    supplier_id, contract_id = await supplier_with_contract(client, auth)
    other = await new_contract(client, auth, supplier_id)
    manager = auth("supplier_manager", subject="olga")
    assert (await client.post(f"/api/v1/contracts/{other['id']}/activate", headers=manager)).status_code == 200
    asked, held, done = [(await request(client, auth, supplier_id, contract_id)).json() for _ in range(3)]
    for item in (held, done):
        assert (await client.post(f"{URL}/{item['id']}/grant", headers=manager)).status_code == 200
    revoked = await client.post(f"{URL}/{done['id']}/revoke", json={"reason": "project over"}, headers=manager)
    assert revoked.status_code == 200, revoked.text
    elsewhere = (await request(client, auth, supplier_id, other["id"])).json()
    assert (await client.post(f"{URL}/{elsewhere['id']}/grant", headers=manager)).status_code == 200

    ending = await client.post(
        f"/api/v1/contracts/{contract_id}/terminate",
        json={"reason": "supplier insolvent"},
        headers=auth("supplier_manager", subject="rita"),
    )
    assert ending.status_code == 200, ending.text
    number = ending.json()["number"]

    auditor = auth("auditor")
    for item, versions in ((asked, 2), (held, 3)):
        read = (await client.get(f"{URL}/{item['id']}", headers=auditor)).json()
        assert (read["status"], read["version"]) == ("revoked", versions)
        assert read["ended_reason"] == f"contract {number} terminated"
        history = (await client.get(f"{URL}/{item['id']}/history", headers=auditor)).json()
        [last] = [h for h in history if h["field"] == "status" and h["new"] == "revoked"]
        assert (last["action"], last["actor"], last["reason"]) == ("revoke", "rita", f"contract {number} terminated")
        event = (await outbox_events(supplier_db, outbox, item["id"]))[-1]
        data = event.data_as(SupplierAccessRevoked)
        assert (data.actor, data.reason, data.status, data.owner) == (
            "rita",
            f"contract {number} terminated",
            "revoked",
            "olga",
        )
    # Already revoked: untouched, no second event; another contract's grant stays in force.
    assert (await client.get(f"{URL}/{done['id']}", headers=auditor)).json()["ended_reason"] == "project over"
    assert len(await outbox_events(supplier_db, outbox, done["id"])) == 2
    kept = (await client.get(f"{URL}/{elsewhere['id']}", headers=auditor)).json()
    assert (kept["status"], kept["version"]) == ("granted", 2)
    assert len(await outbox_events(supplier_db, outbox, elsewhere["id"])) == 1
