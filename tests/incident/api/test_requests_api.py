"""Service requests over HTTP: the catalogue, the lifecycle with approval and separation of
duties, 409 with the allowed actions, history, events, SLA clocks, and bad input stored nowhere."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import catalogue_item, outbox, service_request, service_request_history
from tests.conftest import running
from tests.infra import Servers, create_service_database, outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

ITEMS, REQUESTS = "/api/v1/catalogue/items", "/api/v1/requests"
ALWAYS = {d: {"start": "00:00", "end": "24:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture(scope="module")
async def req_db(servers: Servers) -> str:
    return await create_service_database(servers, "incident", label="requests_api")


@pytest.fixture
async def client(req_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(IncidentSettings, req_db, run_worker=False))) as client:
        yield client


@pytest.fixture
def manager(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("service_level_manager", subject="sue")


async def _item(client: httpx.AsyncClient, manager: dict[str, str], **changes: Any) -> dict[str, Any]:
    body = {"name": f"item-{uuid.uuid4().hex[:8]}", "fulfilment_group": "workplace", **changes}
    r = await client.post(ITEMS, json=body, headers=manager)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_catalogue_item_is_created_read_replaced_withdrawn_and_deleted(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    service = str(uuid.uuid4())
    item = await _item(client, manager, service_id=service, needs_approval=True, approver_role="request_approver")
    assert (item["default_priority"], item["active"], item["version"]) == (4, True, 1)
    url = f"{ITEMS}/{item['id']}"
    assert (await client.get(url, headers=auth("requester"))).headers["etag"] == 'W/"1"'
    listed = await client.get(ITEMS, params={"service_id": service}, headers=auth("requester"))
    assert [i["id"] for i in listed.json()] == [item["id"]]
    body = {k: item[k] for k in ("name", "service_id", "needs_approval", "approver_role", "fulfilment_group")}
    withdrawn = await client.put(url, json={**body, "active": False}, headers={**manager, "If-Match": 'W/"1"'})
    assert (withdrawn.status_code, withdrawn.json()["active"], withdrawn.json()["version"]) == (200, False, 2)
    assert (await client.put(url, json=body, headers={**manager, "If-Match": 'W/"1"'})).status_code == 412
    submitted = await client.post(REQUESTS, json={"catalogue_item_id": item["id"]}, headers=auth("requester"))
    assert submitted.status_code == 422
    assert "withdrawn" in submitted.json()["detail"]
    assert (await client.delete(url, headers=manager)).status_code == 204
    assert (await client.get(url, headers=manager)).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"fulfilment_group": " "}, "fulfilment_group"),
        ({"needs_approval": True}, "approver_role"),
        ({"default_priority": 6}, "default_priority"),
        ({"service_id": "nope"}, "service_id"),
        ({"sla": "gold"}, "sla"),
    ],
)
async def test_a_bad_catalogue_item_is_a_422_problem_and_stores_nothing(
    client: httpx.AsyncClient, manager: dict[str, str], req_db: str, changes: dict[str, Any], field: str
) -> None:
    before = await row_counts(req_db, catalogue_item)
    r = await client.post(ITEMS, json={"name": "bad", "fulfilment_group": "workplace", **changes}, headers=manager)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert await row_counts(req_db, catalogue_item) == before


async def test_only_service_level_managers_and_admins_edit_the_catalogue_and_names_are_unique(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    assert (
        await client.post(ITEMS, json={"name": "x", "fulfilment_group": "g"}, headers=auth("agent"))
    ).status_code == 403
    item = await _item(client, manager)
    twin = await client.post(ITEMS, json={"name": item["name"], "fulfilment_group": "g"}, headers=auth("admin"))
    assert twin.status_code == 409


async def test_a_request_needing_approval_is_approved_fulfilled_and_closed_with_history_events_and_clocks(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Callable[..., dict[str, str]], req_db: str
) -> None:
    calendar = await client.post(
        "/api/v1/sla/calendars", json={"name": "24x7", "time_zone": "UTC", "working_hours": ALWAYS}, headers=manager
    )
    policy = await client.post(
        "/api/v1/sla/policies",
        json={
            "name": "requests P3",
            "ticket_kind": "request",
            "priority": 3,
            "response_target_s": 4 * 3600,
            "resolution_target_s": 3 * 86400,
            "calendar_id": calendar.json()["id"],
        },
        headers=manager,
    )
    assert policy.status_code == 201, policy.text
    item = await _item(client, manager, needs_approval=True, approver_role="request_approver", default_priority=3)
    # ann fulfils the workplace group's requests (the item's fulfilment group).
    bob, ann = auth("requester", subject="bob"), auth("agent", subject="ann", groups=("workplace",))
    carl = auth("request_approver", subject="carl")
    r = await client.post(REQUESTS, json={"catalogue_item_id": item["id"], "description": "14 inch"}, headers=bob)
    assert r.status_code == 201, r.text
    request = r.json()
    assert request["number"].startswith("REQ") and len(request["number"]) == 10
    assert (request["status"], request["requester"], request["title"]) == ("submitted", "bob", item["name"])
    assert (request["priority"], request["assignment_group"]) == (3, "workplace")
    assert request["allowed_actions"] == ["approve", "cancel", "reject"]
    url = f"{REQUESTS}/{request['id']}"

    clocks = {c["target"]: c["state"] for c in (await client.get(f"{url}/sla", headers=ann)).json()}
    assert clocks == {"response": "paused", "resolution": "paused"}  # waiting for the approver

    own = await client.post(f"{url}/approve", json={}, headers=auth("requester", "request_approver", subject="bob"))
    assert own.status_code == 403
    assert "separation of duties" in own.json()["detail"]
    assert (await client.post(f"{url}/approve", json={}, headers=ann)).status_code == 403  # not the approver role
    too_early = await client.post(f"{url}/start", headers=ann)
    assert too_early.status_code == 409
    assert too_early.json()["allowed_actions"] == ["approve", "cancel", "reject"]

    approved = await client.post(f"{url}/approve", json={"reason": "budget ok"}, headers=carl)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["approver"]) == ("approved", "carl")
    clocks = {c["target"]: c["state"] for c in (await client.get(f"{url}/sla", headers=ann)).json()}
    assert clocks == {"response": "running", "resolution": "running"}
    started = await client.post(f"{url}/start", json={"assignee": "ann"}, headers=ann)
    assert (started.json()["status"], started.json()["assignee"]) == ("in_fulfilment", "ann")
    fulfilled = await client.post(f"{url}/fulfil", json={"notes": "handed over"}, headers=ann)
    assert fulfilled.json()["status"] == "fulfilled"
    closed = await client.post(f"{url}/close", headers={**bob, "If-Match": fulfilled.headers["etag"]})
    assert (closed.status_code, closed.json()["status"], closed.json()["allowed_actions"]) == (200, "closed", [])

    history = (await client.get(f"{url}/history", headers=auth("auditor"))).json()
    statuses = [(h["old"], h["new"], h["actor"]) for h in history if h["field"] == "status"]
    assert statuses == [
        ("submitted", "approved", "carl"),
        ("approved", "in_fulfilment", "ann"),
        ("in_fulfilment", "fulfilled", "ann"),
        ("fulfilled", "closed", "bob"),
    ]
    events = await outbox_events(req_db, outbox, request["id"])
    assert [e.type for e in events] == [
        "itsm.request.submitted.v1",
        "itsm.request.approved.v1",
        "itsm.request.fulfilment_started.v1",
        "itsm.request.fulfilled.v1",
        "itsm.request.closed.v1",
    ]
    assert events[0].data["needs_approval"] is True
    assert (events[1].data["approver"], events[1].data["reason"]) == ("carl", "budget ok")
    results = {s["target"]: s for s in events[3].data["sla"]}
    assert {t: (s["met"], s["policy_id"]) for t, s in results.items()} == {
        "response": (True, policy.json()["id"]),
        "resolution": (True, policy.json()["id"]),
    }


async def test_a_request_without_approval_goes_straight_to_fulfilment_and_cannot_be_approved(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    item = await _item(client, manager)
    r = await client.post(REQUESTS, json={"catalogue_item_id": item["id"], "priority": 2}, headers=auth("agent"))
    url = f"{REQUESTS}/{r.json()['id']}"
    approve = await client.post(f"{url}/approve", json={}, headers=auth("admin", subject="root"))
    assert approve.status_code == 409
    assert approve.json()["allowed_actions"] == ["cancel", "start"]
    assert (await client.post(f"{url}/start", headers=auth("agent"))).json()["status"] == "in_fulfilment"


async def test_rejecting_and_cancelling(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Callable[..., dict[str, str]], req_db: str
) -> None:
    item = await _item(client, manager, needs_approval=True, approver_role="request_approver")
    bob = auth("requester", subject="bob")
    first = (await client.post(REQUESTS, json={"catalogue_item_id": item["id"]}, headers=bob)).json()
    url = f"{REQUESTS}/{first['id']}"
    approver = auth("request_approver", subject="carl")
    assert (await client.post(f"{url}/reject", json={"reason": ""}, headers=approver)).status_code == 422
    rejected = await client.post(f"{url}/reject", json={"reason": "no budget"}, headers=approver)
    assert (rejected.json()["status"], rejected.json()["allowed_actions"]) == ("rejected", [])
    second = (await client.post(REQUESTS, json={"catalogue_item_id": item["id"]}, headers=bob)).json()
    other = await client.post(
        f"{REQUESTS}/{second['id']}/cancel", json={"reason": "mine"}, headers=auth("requester", subject="mallory")
    )
    assert other.status_code == 404
    cancelled = await client.post(f"{REQUESTS}/{second['id']}/cancel", json={"reason": "not needed"}, headers=bob)
    assert cancelled.json()["status"] == "cancelled"
    types = [e.type for e in await outbox_events(req_db, outbox, first["id"])]
    assert types == ["itsm.request.submitted.v1", "itsm.request.rejected.v1"]
    mine = await client.get(REQUESTS, params={"requester": "bob", "status": "cancelled"}, headers=auth("auditor"))
    assert second["id"] in [r["id"] for r in mine.json()["items"]]
    assert (await client.get(REQUESTS, params={"q": second["number"]}, headers=bob)).json()["total"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"catalogue_item_id": str(uuid.uuid4())}, "catalogue_item_id"),
        ({"catalogue_item_id": "not-a-uuid"}, "catalogue_item_id"),
        ({"priority": 9}, "priority"),
        ({"requested_for": ""}, "requested_for"),
        ({"title": "x" * 201}, "title"),
    ],
)
async def test_a_bad_request_is_a_422_problem_and_stores_nothing(
    client: httpx.AsyncClient,
    manager: dict[str, str],
    auth: Callable[..., dict[str, str]],
    req_db: str,
    body: dict[str, Any],
    field: str,
) -> None:
    item = await _item(client, manager)
    before = await row_counts(req_db, service_request, service_request_history, outbox)
    r = await client.post(REQUESTS, json={"catalogue_item_id": item["id"], **body}, headers=auth("requester"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert await row_counts(req_db, service_request, service_request_history, outbox) == before


async def test_unknown_requests_are_404_and_the_auditor_only_reads(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    missing = f"{REQUESTS}/{uuid.uuid4()}"
    for path in ("", "/history", "/sla"):
        assert (await client.get(missing + path, headers=auth("agent"))).status_code == 404
    assert (await client.post(f"{missing}/start", headers=auth("agent"))).status_code == 404
    item = await _item(client, manager)
    assert (
        await client.post(REQUESTS, json={"catalogue_item_id": item["id"]}, headers=auth("auditor"))
    ).status_code == 403
