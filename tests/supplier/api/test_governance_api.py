"""Supplier edits and hierarchy, the process register, reviews and disputes through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.supplier.app import create_app
from services.supplier.settings import SupplierSettings
from services.supplier.store.tables import (
    dispute,
    operated_process,
    outbox,
    performance_review,
    record_history,
    supplier,
)
from shared.events.supplier import DisputeClosed, DisputeOpened, SupplierUpdated
from tests.conftest import running
from tests.infra import outbox_events, row_counts
from tests.supplier.api.helpers import Auth, known_cis, new_contract, new_supplier, unique

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/suppliers"


@pytest.fixture(scope="module")
async def supplier_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("supplier"))


@pytest.fixture
async def client(supplier_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(SupplierSettings, supplier_db))) as client:
        yield client


# ---------------------------------------------------------------------------- suppliers


async def test_a_supplier_is_patched_with_if_match_and_every_field_change_is_kept(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    cis = await known_cis(supplier_db, 2)
    created = await new_supplier(client, auth, contacts=[{"name": "Ann", "email": "ann@acme.example"}])
    base = f"{URL}/{created['id']}"
    olga = auth("supplier_manager", subject="olga")
    change = {"risk_rating": "high", "ci_ids": cis, "contacts": [{"name": "Bob", "role": "account manager"}]}
    assert (await client.patch(base, json=change, headers=olga)).status_code == 428
    assert (await client.patch(base, json=change, headers={**olga, "If-Match": 'W/"7"'})).status_code == 412
    r = await client.patch(base, json=change, headers={**olga, "If-Match": 'W/"1"'})
    assert r.status_code == 200, r.text
    read = r.json()
    assert (read["risk_rating"], read["ci_ids"], read["version"], r.headers["etag"]) == ("high", cis, 2, 'W/"2"')
    assert read["contacts"] == [{"name": "Bob", "email": None, "phone": None, "role": "account manager"}]

    history = (await client.get(f"{base}/history", headers=auth("auditor"))).json()
    assert [(h["action"], h["field"], h["actor"]) for h in history] == [
        ("create", "status", "tester"),
        ("update", "risk_rating", "olga"),
        ("update", "contacts", "olga"),
        ("update", "ci_ids", "olga"),
    ]
    assert history[1]["old"] == "medium" and history[1]["new"] == "high"
    [_, updated] = await outbox_events(supplier_db, outbox, created["id"])
    data = updated.data_as(SupplierUpdated)
    assert (data.changes["risk_rating"], data.actor) == (["medium", "high"], "olga")

    same = await client.patch(base, json={"risk_rating": "high"}, headers={**olga, "If-Match": 'W/"2"'})
    assert same.json()["version"] == 2  # nothing changed: no new version, no event
    assert len(await outbox_events(supplier_db, outbox, created["id"])) == 2


async def test_the_supplier_hierarchy_is_kept_and_never_loops(client: httpx.AsyncClient, auth: Auth) -> None:
    lead = await new_supplier(client, auth)
    sub = await new_supplier(client, auth, lead_supplier_id=lead["id"])
    subsub = await new_supplier(client, auth, lead_supplier_id=sub["id"])
    assert (sub["role"], lead["role"]) == ("subcontractor", "lead")
    listed = (await client.get(URL, params={"lead_supplier_id": lead["id"]}, headers=auth("auditor"))).json()
    assert [s["id"] for s in listed["items"]] == [sub["id"]]

    manager = auth("supplier_manager")
    for who, lead_id in [(lead, subsub["id"]), (lead, lead["id"]), (sub, subsub["id"])]:
        r = await client.patch(
            f"{URL}/{who['id']}", json={"lead_supplier_id": lead_id}, headers={**manager, "If-Match": 'W/"1"'}
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "lead_supplier_id"
    promoted = await client.patch(
        f"{URL}/{sub['id']}", json={"lead_supplier_id": None}, headers={**manager, "If-Match": 'W/"1"'}
    )
    assert promoted.json()["role"] == "lead"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lead_supplier_id": "00000000-0000-4000-8000-000000000000"}, "lead_supplier_id"),
        ({"ci_ids": ["00000000-0000-4000-8000-000000000000"]}, "ci_ids"),
        ({"contacts": [{"name": "x", "email": "nope"}]}, "contacts.0.email"),
        ({"name": None}, "body"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_bad_supplier_edit_is_a_problem_and_changes_nothing(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str, body: dict[str, Any], field: str
) -> None:
    created = await new_supplier(client, auth)
    before = await row_counts(supplier_db, supplier, outbox, record_history)
    r = await client.patch(
        f"{URL}/{created['id']}", json=body, headers={**auth("supplier_manager"), "If-Match": 'W/"1"'}
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert await row_counts(supplier_db, supplier, outbox, record_history) == before


# ---------------------------------------------------------------------------- process register


async def test_the_register_of_processes_a_supplier_operates(client: httpx.AsyncClient, auth: Auth) -> None:
    operator = await new_supplier(client, auth)
    contract = await new_contract(client, auth, operator["id"])
    base = f"{URL}/{operator['id']}/processes"
    manager = auth("supplier_manager")
    entry = {
        "process": "incident",
        "scope": "Second-line resolution of network incidents",
        "contract_id": contract["id"],
        "measurement": "Resolution time per priority from incident events, monthly scorecard",
        "kpis": ["P1 resolved within 4 h", "first-time fix rate"],
        "process_owner": "irene",
    }
    r = await client.post(base, json=entry, headers=manager)
    assert r.status_code == 201, r.text
    created = r.json()
    assert {k: created[k] for k in entry} == entry
    assert (await client.get(base, headers=auth("auditor"))).json() == [created]

    patched = await client.patch(
        f"{base}/{created['id']}", json={"scope": "All incident resolution"}, headers={**manager, "If-Match": 'W/"1"'}
    )
    assert (patched.status_code, patched.json()["scope"], patched.json()["version"]) == (
        200,
        "All incident resolution",
        2,
    )
    assert (await client.delete(f"{base}/{created['id']}", headers={**manager, "If-Match": 'W/"1"'})).status_code == 412
    assert (await client.delete(f"{base}/{created['id']}", headers={**manager, "If-Match": 'W/"2"'})).status_code == 204
    assert (await client.get(f"{base}/{created['id']}", headers=auth("auditor"))).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"process": "catering"}, "process"),
        ({"scope": ""}, "scope"),
        ({"contract_id": "00000000-0000-4000-8000-000000000000"}, "contract_id"),
        ({"process_owner": None}, "process_owner"),
    ],
)
async def test_a_bad_register_entry_stores_nothing(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str, body: dict[str, Any], field: str
) -> None:
    operator = await new_supplier(client, auth)
    entry = {"process": "change", "scope": "s", "measurement": "m", "process_owner": "o", **body}
    before = await row_counts(supplier_db, operated_process)
    r = await client.post(f"{URL}/{operator['id']}/processes", json=entry, headers=auth("supplier_manager"))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await row_counts(supplier_db, operated_process) == before


# ---------------------------------------------------------------------------- reviews


async def test_a_review_keeps_its_figures_and_links_the_amendment_it_led_to(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    reviewed = await new_supplier(client, auth)
    contract = await new_contract(client, auth, reviewed["id"])
    manager = auth("supplier_manager", subject="olga")
    await client.post(f"/api/v1/contracts/{contract['id']}/activate", headers=manager)
    body = {
        "held_on": "2026-11-20",
        "period": "2026-10",
        "contract_id": contract["id"],
        "participants": ["olga", "the supplier's account manager"],
        "findings": "P1 resolution slipped twice",
        "actions": [{"description": "Root-cause the two P1s", "owner": "supplier", "due_on": "2026-12-15"}],
    }
    r = await client.post(f"{URL}/{reviewed['id']}/reviews", json=body, headers=manager)
    assert r.status_code == 201, r.text
    review = r.json()
    assert review["number"].startswith("SPR") and review["recorded_by"] == "olga"
    assert review["figures"]["period"] == "2026-10" and review["figures"]["supplier_id"] == reviewed["id"]
    assert review["actions"] == body["actions"] and review["amendments"] == []

    amended = await client.post(
        f"/api/v1/contracts/{contract['id']}/amend",
        json={
            "changes": {"targets": [{"priority": 1, "response_minutes": 10, "resolution_minutes": 180}]},
            "reason": "Agreed at the October review",
            "review_id": review["id"],
        },
        headers={**manager, "If-Match": 'W/"2"'},
    )
    assert amended.status_code == 201, amended.text
    again = (await client.get(f"{URL}/{reviewed['id']}/reviews/{review['id']}", headers=auth("auditor"))).json()
    assert again["amendments"] == [
        {
            "contract_id": contract["id"],
            "contract_number": contract["number"],
            "amendment": 1,
            "reason": "Agreed at the October review",
        }
    ]
    assert [x["id"] for x in (await client.get(f"{URL}/{reviewed['id']}/reviews", headers=auth("auditor"))).json()] == [
        review["id"]
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"period": "2026-13"}, "period"), ({"participants": []}, "participants"), ({"held_on": "yesterday"}, "held_on")],
)
async def test_a_bad_review_stores_nothing(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str, change: dict[str, Any], field: str
) -> None:
    reviewed = await new_supplier(client, auth)
    body = {"held_on": "2026-11-20", "period": "2026-10", "participants": ["o"], "findings": "f", **change}
    before = await row_counts(supplier_db, performance_review)
    r = await client.post(f"{URL}/{reviewed['id']}/reviews", json=body, headers=auth("supplier_manager"))
    assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], r.text
    assert await row_counts(supplier_db, performance_review) == before


# ---------------------------------------------------------------------------- disputes


async def test_a_dispute_is_recorded_to_closure_and_published(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    party = await new_supplier(client, auth)
    manager = auth("supplier_manager", subject="olga")
    r = await client.post(
        "/api/v1/disputes",
        json={
            "supplier_id": party["id"],
            "title": "Service credits for October",
            "owner": "olga",
            "amount": "4500.00",
            "currency": "EUR",
        },
        headers=manager,
    )
    assert r.status_code == 201, r.text
    opened = r.json()
    base = f"/api/v1/disputes/{opened['id']}"
    assert (opened["status"], opened["number"][:3], opened["allowed_actions"]) == (
        "open",
        "DSP",
        ["negotiate", "escalate", "resolve"],
    )
    refused = await client.post(f"{base}/close", headers=manager)
    assert refused.status_code == 409 and refused.json()["allowed_actions"] == ["escalate", "negotiate", "resolve"]
    no_resolution = await client.post(f"{base}/resolve", json={"note": "done"}, headers=manager)
    assert no_resolution.status_code == 422
    for action, body in [
        ("escalate", {"note": "no answer in 10 days"}),
        ("resolve", {"resolution": "Credit of 3,000 EUR on the next invoice"}),
        ("close", {}),
    ]:
        step = await client.post(f"{base}/{action}", json=body, headers=manager)
        assert step.status_code == 200, step.text
    closed = step.json()
    assert (closed["status"], closed["resolution"], closed["closed_at"] is not None) == (
        "closed",
        "Credit of 3,000 EUR on the next invoice",
        True,
    )
    history = (await client.get(f"{base}/history", headers=auth("auditor"))).json()
    assert [h["action"] for h in history if h["field"] == "status"] == ["open", "escalate", "resolve", "close"]
    events = await outbox_events(supplier_db, outbox, opened["id"])
    assert [e.type for e in events] == ["itsm.dispute.opened.v1", "itsm.dispute.closed.v1"]
    assert events[0].data_as(DisputeOpened).owner == "olga"
    assert events[1].data_as(DisputeClosed).resolution == "Credit of 3,000 EUR on the next invoice"
    listed = (await client.get("/api/v1/disputes", params={"supplier_id": party["id"]}, headers=auth("auditor"))).json()
    assert [d["id"] for d in listed["items"]] == [opened["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"supplier_id": "00000000-0000-4000-8000-000000000000"}, "supplier_id"),
        ({"owner": ""}, "owner"),
        ({"amount": "10"}, "currency"),
        ({"currency": "EURO", "amount": "10"}, "currency"),
        ({"contract_id": "00000000-0000-4000-8000-000000000000"}, "contract_id"),
    ],
)
async def test_a_bad_dispute_stores_nothing(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str, body: dict[str, Any], field: str
) -> None:
    party = await new_supplier(client, auth)
    before = await row_counts(supplier_db, dispute, outbox)
    r = await client.post(
        "/api/v1/disputes",
        json={"supplier_id": party["id"], "title": unique("Dispute"), "owner": "olga", **body},
        headers=auth("supplier_manager"),
    )
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await row_counts(supplier_db, dispute, outbox) == before
