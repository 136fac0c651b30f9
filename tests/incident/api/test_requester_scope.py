"""A requester sees and acts on their own incidents and requests only (the findings of the
authorisation issue): another requester's record answers 404 as if it did not exist, before any
state check; lists show only their own; history hides the agents' side; they are the caller of
what they raise."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import incident
from tests.conftest import running
from tests.infra import Servers, create_service_database, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

INCIDENTS, REQUESTS = "/api/v1/incidents", "/api/v1/requests"


@pytest.fixture(scope="module")
async def scope_db(servers: Servers) -> str:
    return await create_service_database(servers, "incident", label="requester_scope")


@pytest.fixture
async def client(scope_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(IncidentSettings, scope_db, run_worker=False))) as client:
        yield client


async def _incident(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], caller: str) -> dict[str, Any]:
    body = {"title": f"vpn {uuid.uuid4().hex[:6]}", "caller": caller, "impact": 3, "urgency": 3}
    r = await client.post(INCIDENTS, json=body, headers=auth("agent", subject="ann"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_another_requesters_incident_is_404_before_any_state_check(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    bobs = await _incident(client, auth, "bob")
    alice = auth("requester", subject="alice")
    url = f"{INCIDENTS}/{bobs['id']}"
    gone = f"incident {bobs['id']} does not exist"
    answers = [
        await client.get(url, headers=alice),
        await client.get(f"{url}/history", headers=alice),
        await client.get(f"{url}/timeline", headers=alice),
        await client.post(f"{url}/notes", json={"text": "hi", "visibility": "customer"}, headers=alice),
        # Neither is resolved or closed: an agent would get a 409 here; alice learns nothing.
        await client.post(f"{url}/reopen", json={"reason": "still broken"}, headers=alice),
        await client.post(f"{url}/close", headers=alice),
    ]
    assert [(r.status_code, r.json()["detail"]) for r in answers] == [(404, gone)] * len(answers)
    assert (await client.post(f"{url}/close", headers=auth("agent"))).status_code == 409
    listed = await client.get(INCIDENTS, params={"q": bobs["number"]}, headers=alice)
    assert listed.json()["items"] == []
    assert (await client.get(url, headers=auth("requester", subject="bob"))).status_code == 200


async def test_a_requester_sees_the_history_of_their_incident_without_the_agents_side(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    mine = await _incident(client, auth, "alice")
    url = f"{INCIDENTS}/{mine['id']}"
    body = {"assignment_group": "network", "assignee": "ann", "reason": "internal: ann owes us one"}
    assert (await client.post(f"{url}/assign", json=body, headers=auth("agent", subject="ann"))).status_code == 200
    staff = (await client.get(f"{url}/history", headers=auth("auditor"))).json()
    assert "internal: ann owes us one" in [h["reason"] for h in staff]
    assert "assignment_group" in [h["field"] for h in staff]
    own = await client.get(f"{url}/history", headers=auth("requester", subject="alice"))
    assert own.status_code == 200
    assert {h["reason"] for h in own.json()} == {""}
    assert [h["field"] for h in own.json()] == [h["field"] for h in staff if h["field"] == "status"]
    listed = await client.get(INCIDENTS, headers=auth("requester", subject="alice"))
    assert {i["caller"] for i in listed.json()["items"]} == {"alice"}


async def test_a_requester_is_the_caller_of_what_they_raise(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], scope_db: str
) -> None:
    before = await row_counts(scope_db, incident)
    body = {"title": "CEO laptop", "caller": "ceo@example.com", "impact": 1, "urgency": 1}
    r = await client.post(INCIDENTS, json=body, headers=auth("requester", subject="alice"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["caller"]
    assert await row_counts(scope_db, incident) == before
    own = await client.post(INCIDENTS, json={**body, "caller": "alice"}, headers=auth("requester", subject="alice"))
    assert (own.status_code, own.json()["caller"]) == (201, "alice")
    for_someone = await client.post(INCIDENTS, json=body, headers=auth("agent", subject="ann"))
    assert (for_someone.status_code, for_someone.json()["caller"]) == (201, "ceo@example.com")


async def test_another_requesters_service_request_is_404_and_not_listed(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    item = await client.post(
        "/api/v1/catalogue/items",
        json={"name": f"item-{uuid.uuid4().hex[:8]}", "fulfilment_group": "workplace"},
        headers=auth("service_level_manager"),
    )
    assert item.status_code == 201, item.text
    submitted = await client.post(
        REQUESTS, json={"catalogue_item_id": item.json()["id"]}, headers=auth("requester", subject="bob")
    )
    bobs = submitted.json()
    alice = auth("requester", subject="alice")
    url = f"{REQUESTS}/{bobs['id']}"
    answers = [
        await client.get(url, headers=alice),
        await client.post(f"{url}/close", headers=alice),
        await client.post(f"{url}/cancel", json={"reason": "mine now"}, headers=alice),
    ]
    assert [r.status_code for r in answers] == [404, 404, 404]
    assert (await client.get(REQUESTS, params={"requester": "bob"}, headers=alice)).json()["items"] == []
    assert (await client.get(REQUESTS, params={"q": bobs["number"]}, headers=alice)).json()["items"] == []
    mine = await client.get(REQUESTS, params={"q": bobs["number"]}, headers=auth("requester", subject="bob"))
    assert [r["id"] for r in mine.json()["items"]] == [bobs["id"]]
