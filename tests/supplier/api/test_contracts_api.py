"""Contracts through the API on the run's PostgreSQL: terms, lifecycle, amendments, history."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from services.supplier.app import create_app
from services.supplier.settings import SupplierSettings
from services.supplier.store.tables import contract, contract_amendment, outbox, record_history
from shared.events.supplier import (
    ContractActivated,
    ContractAmended,
    ContractCreated,
    ContractRenewed,
    ContractTerminated,
)
from tests.conftest import running
from tests.infra import outbox_events, row_counts
from tests.supplier.api.helpers import NOW, Auth, contract_body, known_cis, new_contract, new_supplier

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/contracts"


@pytest.fixture(scope="module")
async def supplier_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("supplier"))


@pytest.fixture
async def client(supplier_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(SupplierSettings, supplier_db))) as client:
        yield client


async def test_a_contract_is_drafted_with_all_its_terms_and_read_back(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    supplier = await new_supplier(client, auth)
    cis = await known_cis(supplier_db, 2)
    terms = {
        "scope": "LAN and WAN of all sites",
        "ci_ids": cis,
        "renewal_terms": "renews for 12 months unless notice is given",
        "value": "120000.00",
        "currency": "EUR",
        "charging_basis": "subscription",
        "availability_pct": 99.9,
        "workload_limits": "up to 200 incidents a month",
        "exceptions": "force majeure",
        "reporting_obligations": [{"report": "SLA report", "frequency": "monthly"}],
        "exit_terms": "hand over configurations within 30 days",
        "document_refs": ["DMS-4711"],
    }
    r = await client.post(URL, json=contract_body(supplier["id"], **terms), headers=auth("supplier_manager"))
    assert r.status_code == 201, r.text
    read = r.json()
    assert read["number"].startswith("CTR") and read["status"] == "draft" and read["version"] == 1
    assert {k: read[k] for k in terms} == terms
    assert read["allowed_actions"] == ["edit", "activate", "cancel"]
    assert r.headers["etag"] == 'W/"1"'
    fetched = await client.get(r.headers["location"], headers=auth("auditor"))
    assert fetched.json() == read
    [created] = await outbox_events(supplier_db, outbox, read["id"])
    data = created.data_as(ContractCreated)
    assert (str(data.supplier_id), data.status, data.number) == (supplier["id"], "draft", read["number"])


async def test_the_lifecycle_runs_and_refuses_what_the_state_does_not_allow_with_409(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    supplier = await new_supplier(client, auth)
    cis = await known_cis(supplier_db, 2)
    draft = await new_contract(
        client, auth, supplier["id"], ci_ids=cis, value="12000.50", currency="EUR", charging_basis="subscription"
    )
    manager = auth("supplier_manager", subject="olga")
    base = f"{URL}/{draft['id']}"

    refused = await client.post(f"{base}/terminate", json={"reason": "x"}, headers=manager)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["allowed_actions"] == ["activate", "cancel", "edit"]

    activated = await client.post(f"{base}/activate", headers=manager)
    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "active" and activated.json()["allowed_actions"] == [
        "amend",
        "renew",
        "terminate",
    ]
    [_, event] = await outbox_events(supplier_db, outbox, draft["id"])
    data = event.data_as(ContractActivated)
    assert sorted(map(str, data.ci_ids)) == sorted(cis) and data.actor == "olga"
    assert (data.value, data.currency, data.charging_basis) == (Decimal("12000.50"), "EUR", "subscription")

    for path, body in [("activate", None), ("cancel", {"reason": "x"})]:
        again = await client.post(f"{base}/{path}", json=body, headers=manager)
        assert again.status_code == 409 and again.json()["allowed_actions"] == ["amend", "renew", "terminate"]
    patched = await client.patch(base, json={"scope": "more"}, headers={**manager, "If-Match": 'W/"2"'})
    assert patched.status_code == 409, patched.text

    terminated = await client.post(f"{base}/terminate", json={"reason": "supplier insolvent"}, headers=manager)
    assert terminated.json()["status"] == "terminated" and terminated.json()["allowed_actions"] == []
    events = await outbox_events(supplier_db, outbox, draft["id"])
    assert events[-1].data_as(ContractTerminated).reason == "supplier insolvent"
    done = await client.post(
        f"{base}/renew", json={"ends_on": (NOW + timedelta(days=900)).isoformat()}, headers=manager
    )
    assert done.status_code == 409 and done.json()["allowed_actions"] == []


async def test_a_draft_is_edited_with_if_match_and_renewal_brings_a_new_term(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    supplier = await new_supplier(client, auth)
    draft = await new_contract(client, auth, supplier["id"])
    manager = auth("supplier_manager")
    base = f"{URL}/{draft['id']}"
    assert (await client.patch(base, json={"scope": "x"}, headers=manager)).status_code == 428
    assert (await client.patch(base, json={"scope": "x"}, headers={**manager, "If-Match": 'W/"9"'})).status_code == 412
    edited = await client.patch(base, json={"scope": "Data centre"}, headers={**manager, "If-Match": 'W/"1"'})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["scope"], edited.json()["version"], edited.headers["etag"]) == ("Data centre", 2, 'W/"2"')

    await client.post(f"{base}/activate", headers=manager)
    new_end = (NOW + timedelta(days=730)).isoformat()
    renewed = await client.post(f"{base}/renew", json={"ends_on": new_end, "reason": "second year"}, headers=manager)
    assert renewed.status_code == 200, renewed.text
    assert (renewed.json()["status"], renewed.json()["term"]) == ("active", 2)
    renewal = (await outbox_events(supplier_db, outbox, draft["id"]))[-1].data_as(ContractRenewed)
    assert renewal.charging_basis == draft["charging_basis"] and renewal.value == draft["value"]
    history = (await client.get(f"{base}/history", headers=auth("auditor"))).json()
    assert [(h["action"], h["field"]) for h in history] == [
        ("create", "status"),
        ("edit", "scope"),
        ("activate", "status"),
        ("renew", "ends_on"),
        ("renew", "term"),
    ]
    assert history[-1]["reason"] == "second year"


async def test_an_active_contract_changes_only_through_a_recorded_amendment(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    supplier = await new_supplier(client, auth)
    draft = await new_contract(client, auth, supplier["id"])
    base = f"{URL}/{draft['id']}"
    await client.post(f"{base}/activate", headers=auth("supplier_manager"))
    ivan = auth("supplier_manager", subject="ivan")

    body = {
        "changes": {
            "targets": [{"priority": 1, "response_minutes": 10, "resolution_minutes": 120}],
            "notice_period_days": 60,
        },
        "reason": "Quarterly review: tighter P1 targets",
    }
    assert (await client.post(f"{base}/amend", json=body, headers=ivan)).status_code == 428
    r = await client.post(f"{base}/amend", json=body, headers={**ivan, "If-Match": 'W/"2"'})
    assert r.status_code == 201, r.text
    amendment = r.json()
    assert (amendment["number"], amendment["actor"], amendment["reason"]) == (1, "ivan", body["reason"])
    assert amendment["changes"]["notice_period_days"] == [90, 60]
    assert r.headers["etag"] == 'W/"3"'

    after = (await client.get(base, headers=auth("auditor"))).json()
    assert after["targets"] == body["changes"]["targets"] and after["amendments"] == 1
    listed = (await client.get(f"{base}/amendments", headers=auth("auditor"))).json()
    assert [a["number"] for a in listed] == [1]
    history = (await client.get(f"{base}/history", headers=auth("auditor"))).json()
    amended = [h for h in history if h["action"] == "amend"]
    assert {h["field"] for h in amended} == {"targets", "notice_period_days"}
    assert all(h["amendment"] == 1 and h["actor"] == "ivan" for h in amended)
    event = (await outbox_events(supplier_db, outbox, draft["id"]))[-1].data_as(ContractAmended)
    assert (event.amendment, event.reason, event.changes["notice_period_days"]) == (1, body["reason"], [90, 60])

    before = await row_counts(supplier_db, contract_amendment, outbox, record_history)
    dates = await client.post(
        f"{base}/amend",
        json={"changes": {"ends_on": (NOW + timedelta(days=999)).isoformat()}, "reason": "longer"},
        headers={**ivan, "If-Match": 'W/"3"'},
    )
    assert dates.status_code == 422 and dates.json()["errors"][0]["field"] == "ends_on"
    stale = await client.post(f"{base}/amend", json=body, headers={**ivan, "If-Match": 'W/"2"'})
    assert stale.status_code == 412
    assert await row_counts(supplier_db, contract_amendment, outbox, record_history) == before


async def test_contract_cis_must_be_known_and_not_retired(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    supplier = await new_supplier(client, auth)
    [live] = await known_cis(supplier_db, 1)
    [retired] = await known_cis(supplier_db, 1, status="retired")
    unknown = "00000000-0000-4000-8000-00000000abcd"
    before = await row_counts(supplier_db, contract, outbox)
    for ci_ids, reason in [([live, unknown], "unknown"), ([retired], "retired")]:
        r = await client.post(URL, json=contract_body(supplier["id"], ci_ids=ci_ids), headers=auth("supplier_manager"))
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "ci_ids" and reason in r.json()["errors"][0]["reason"]
    assert await row_counts(supplier_db, contract, outbox) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"supplier_id": "00000000-0000-4000-8000-000000000000"}, "supplier_id"),
        ({"title": ""}, "title"),
        ({"ends_on": "2020-01-01T00:00:00+00:00"}, "ends_on"),
        ({"ends_on": "2027-01-01T00:00:00"}, "ends_on"),
        ({"currency": "euro", "value": "1"}, "currency"),
        ({"value": "10"}, "currency"),
        ({"value": "-1", "currency": "EUR"}, "value"),
        ({"charging_basis": "barter"}, "charging_basis"),
        ({"targets": [{"priority": 6}]}, "targets.0.priority"),
        ({"targets": [{"priority": 1}, {"priority": 1}]}, "targets"),
        ({"availability_pct": 101}, "availability_pct"),
        ({"notice_period_days": -1}, "notice_period_days"),
        ({"owner": None}, "owner"),
        ({"status": "active"}, "status"),
    ],
)
async def test_a_bad_contract_is_a_problem_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str, change: dict[str, Any], field: str
) -> None:
    supplier = await new_supplier(client, auth)
    before = await row_counts(supplier_db, contract, outbox, record_history)
    r = await client.post(URL, json={**contract_body(supplier["id"]), **change}, headers=auth("supplier_manager"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert await row_counts(supplier_db, contract, outbox, record_history) == before


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("amend", {"changes": {}, "reason": "nothing"}, 422),
        ("amend", {"changes": {"scope": "x"}}, 422),
        ("amend", {"changes": {"colour": "red"}, "reason": "r"}, 422),
        ("amend", {"changes": {"scope": "x"}, "reason": "r", "review_id": "00000000-0000-4000-8000-000000000000"}, 422),
        ("terminate", {"reason": ""}, 422),
        ("terminate", {}, 422),
        ("renew", {"ends_on": "not a date"}, 422),
        ("renew", {"ends_on": (NOW - timedelta(days=1)).isoformat()}, 422),
    ],
)
async def test_a_bad_action_on_an_active_contract_stores_nothing(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str, path: str, body: dict[str, Any], status: int
) -> None:
    supplier = await new_supplier(client, auth)
    draft = await new_contract(client, auth, supplier["id"])
    await client.post(f"{URL}/{draft['id']}/activate", headers=auth("supplier_manager"))
    before = await row_counts(supplier_db, contract, contract_amendment, outbox, record_history)
    r = await client.post(
        f"{URL}/{draft['id']}/{path}", json=body, headers={**auth("supplier_manager"), "If-Match": 'W/"2"'}
    )
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert await row_counts(supplier_db, contract, contract_amendment, outbox, record_history) == before
    assert (await client.get(f"{URL}/{draft['id']}", headers=auth("auditor"))).json()["version"] == 2


async def test_only_supplier_managers_write_and_unknown_contracts_are_404(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    supplier = await new_supplier(client, auth)
    r = await client.post(URL, json=contract_body(supplier["id"]), headers=auth("agent"))
    assert r.status_code == 403
    missing = "00000000-0000-4000-8000-000000000001"
    assert (await client.get(f"{URL}/{missing}", headers=auth("auditor"))).status_code == 404
    assert (await client.post(f"{URL}/{missing}/activate", headers=auth("supplier_manager"))).status_code == 404


async def test_contracts_and_disputes_are_read_only_by_the_supplier_manager_and_the_auditor(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    """Commercial terms and disputes are the supplier manager's (and the auditor's); an agent, a
    requester or another manager gets 403 on them, the supplier register stays readable by staff."""
    supplier = await new_supplier(client, auth)
    contract_id = (await new_contract(client, auth, supplier["id"]))["id"]
    dispute = await client.post(
        "/api/v1/disputes",
        json={"supplier_id": supplier["id"], "title": "Overcharged", "owner": "olga"},
        headers=auth("supplier_manager"),
    )
    assert dispute.status_code == 201, dispute.text
    reads = [
        f"{URL}/{contract_id}",
        URL,
        f"{URL}/{contract_id}/amendments",
        f"{URL}/{contract_id}/history",
        f"/api/v1/disputes/{dispute.json()['id']}",
        "/api/v1/disputes",
    ]
    for path in reads:
        for role in ("requester", "agent", "change_manager", "incident_manager"):
            refused = await client.get(path, headers=auth(role))
            assert refused.status_code == 403, (path, role, refused.text)
        for role in ("supplier_manager", "auditor", "admin"):
            assert (await client.get(path, headers=auth(role))).status_code == 200, (path, role)
    assert (await client.get(f"/api/v1/suppliers/{supplier['id']}", headers=auth("agent"))).status_code == 200


async def test_contracts_are_listed_by_supplier_status_and_covered_ci(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    supplier = await new_supplier(client, auth)
    [ci] = await known_cis(supplier_db, 1)
    covering = await new_contract(client, auth, supplier["id"], ci_ids=[ci])
    await new_contract(client, auth, supplier["id"])
    await client.post(f"{URL}/{covering['id']}/activate", headers=auth("supplier_manager"))

    def ids(r: httpx.Response) -> list[str]:
        return [c["id"] for c in r.json()["items"]]

    assert len(ids(await client.get(URL, params={"supplier_id": supplier["id"]}, headers=auth("auditor")))) == 2
    assert ids(await client.get(URL, params={"ci_id": ci}, headers=auth("auditor"))) == [covering["id"]]
    active = await client.get(URL, params={"supplier_id": supplier["id"], "status": "active"}, headers=auth("auditor"))
    assert ids(active) == [covering["id"]]
