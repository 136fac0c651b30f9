"""Problems and the known error database through the incident API, on the run's PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import (
    incident_history,
    known_error,
    outbox,
    problem,
    problem_history,
    problem_incident,
)
from services.incident.worker import HANDLERS
from shared.db import create_engine
from shared.events import new_event
from shared.events.change import ChangeCreated
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.incident.cis import seed_ci
from tests.infra import outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

TABLES = (problem, problem_history, problem_incident, known_error, incident_history, outbox)


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def client(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(IncidentSettings, incident_db, max_body_bytes=64 * 1024))
    async with running(app) as client:
        yield client


async def _incident(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], **values: Any) -> dict[str, Any]:
    body = {"title": "Mail slow", "caller": "bob", "impact": 2, "urgency": 2, **values}
    r = await client.post("/api/v1/incidents", json=body, headers=auth("agent"))
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def test_a_problem_manager_opens_a_problem_with_incidents_linked_both_ways(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    pm = auth("problem_manager", subject="pam")
    first, second = await _incident(client, auth), await _incident(client, auth)
    ci = str(await seed_ci(incident_db))  # a CI config told this service about
    r = await client.post(
        "/api/v1/problems",
        json={
            "title": "Mail relay drops mail",
            "ci_id": ci,
            "category": "email",
            "incident_ids": [first["id"], second["id"]],
        },
        headers=pm,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["number"].startswith("PRB") and len(created["number"]) == 10
    assert (created["status"], created["origin"], created["incident_count"]) == ("new", "manual", 2)
    assert created["allowed_actions"] == ["cancel", "investigate", "link_change", "link_incident", "update"]
    assert r.headers["location"] == f"/api/v1/problems/{created['id']}"

    linked = (await client.get(f"/api/v1/incidents/{first['id']}", headers=auth("agent"))).json()
    assert (linked["problem_id"], linked["problem_number"]) == (created["id"], created["number"])
    assert linked["version"] == first["version"] + 1  # the link is a change of the incident record
    history = (await client.get(f"/api/v1/incidents/{first['id']}/history", headers=auth("agent"))).json()
    assert {"field": "problem_number", "new": created["number"], "actor": "pam"}.items() <= history[-1].items()

    [event] = await outbox_events(incident_db, outbox, created["id"])
    assert event.type == "itsm.problem.created.v1"
    assert event.data["origin"] == "manual" and len(event.data["incident_ids"]) == 2
    links = await outbox_events(incident_db, outbox, first["id"])
    assert links[-1].type == "itsm.incident.linked_to_problem.v1"
    assert links[-1].data["reason"] == "manual"

    listed = (await client.get("/api/v1/problems", params={"ci_id": ci}, headers=auth("auditor"))).json()
    assert [p["number"] for p in listed["items"]] == [created["number"]]
    shown = (await client.get(f"/api/v1/problems/{created['id']}/incidents", headers=auth("agent"))).json()
    assert {i["incident_number"] for i in shown} == {first["number"], second["number"]}


async def test_the_lifecycle_through_the_api_publishes_a_searchable_known_error_and_retires_it_on_resolve(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    pm = auth("problem_manager", subject="pam")
    ci = str(await seed_ci(incident_db))
    created = (await client.post("/api/v1/problems", json={"title": "VPN drops", "ci_id": ci}, headers=pm)).json()
    url = f"/api/v1/problems/{created['id']}"

    refused = await client.post(f"{url}/known-error", json={"root_cause": "x", "workaround": "y"}, headers=pm)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["allowed_actions"] == ["cancel", "investigate", "link_change", "link_incident", "update"]

    investigating = await client.post(f"{url}/investigate", headers=pm)
    assert investigating.json()["status"] == "under_investigation" and investigating.json()["owner"] == "pam"
    stale = await client.patch(url, json={"root_cause": "MTU"}, headers={**pm, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    edited = await client.patch(
        url, json={"root_cause": "MTU mismatch on the concentrator", "reason": "packet captures"}, headers=pm
    )
    assert edited.status_code == 200 and edited.headers["etag"] == 'W/"3"'
    published = await client.post(
        f"{url}/known-error", json={"workaround": "Set the client MTU to 1400"}, headers={**pm, "If-Match": 'W/"3"'}
    )
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["status"] == "known_error" and body["known_error_id"]

    found = (await client.get("/api/v1/known-errors", params={"q": "mtu", "ci_id": ci}, headers=auth("agent"))).json()
    [record] = found["items"]
    assert (record["id"], record["problem_id"], record["status"]) == (body["known_error_id"], created["id"], "active")
    assert record["workaround"] == "Set the client MTU to 1400" and record["number"].startswith("KE")
    change = str(uuid.uuid4())
    await _change_learnt(incident_db, change, "CHG0000042")
    linked = await client.post(f"{url}/change", json={"change_id": change, "change_number": "CHG0000042"}, headers=pm)
    assert linked.json()["change_number"] == "CHG0000042"
    resolved = await client.post(f"{url}/resolve", json={"resolution": "Firmware 9.4 fixes the MTU"}, headers=pm)
    assert resolved.json()["status"] == "resolved"
    retired = (await client.get(f"/api/v1/known-errors/{record['id']}", headers=auth("agent"))).json()
    assert retired["status"] == "retired"
    closed = await client.post(f"{url}/close", headers=pm)
    assert closed.json()["status"] == "closed" and closed.json()["allowed_actions"] == []

    events = [e.type for e in await outbox_events(incident_db, outbox, created["id"])]
    assert events == [
        "itsm.problem.created.v1",
        "itsm.problem.updated.v1",  # investigate
        "itsm.problem.updated.v1",  # root cause
        "itsm.problem.known_error_published.v1",
        "itsm.problem.updated.v1",  # the fixing change
        "itsm.problem.resolved.v1",
        "itsm.problem.closed.v1",
    ]
    history = (await client.get(f"{url}/history", headers=auth("auditor"))).json()
    root = [h for h in history if h["field"] == "root_cause"]
    assert root[0]["old"] == "" and root[0]["new"] == "MTU mismatch on the concentrator"
    assert root[0]["reason"] == "packet captures" and root[0]["actor"] == "pam"


async def test_a_known_error_entered_directly_gets_its_problem_and_must_say_what_it_matches(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    pm = auth("problem_manager")
    service = str(uuid.uuid4())
    body = {
        "title": "Outlook profile corrupt",
        "symptoms": "Outlook hangs at start",
        "root_cause": "profile corrupted by the 16.0 update",
        "workaround": "Recreate the mail profile",
        "service_id": service,
        "category": "email",
    }
    r = await client.post("/api/v1/known-errors", json=body, headers=pm)
    assert r.status_code == 201, r.text
    record = r.json()
    owner = (await client.get(f"/api/v1/problems/{record['problem_id']}", headers=pm)).json()
    assert owner["status"] == "known_error" and owner["known_error_id"] == record["id"]
    found = await client.get(
        "/api/v1/known-errors", params={"service_id": service, "category": "EMAIL"}, headers=auth("agent")
    )
    assert [k["id"] for k in found.json()["items"]] == [record["id"]]
    retired = await client.post(f"/api/v1/known-errors/{record['id']}/retire", headers=pm)
    assert retired.json()["status"] == "retired"

    before = await row_counts(incident_db, *TABLES)
    unscoped = await client.post("/api/v1/known-errors", json={**body, "service_id": None}, headers=pm)
    assert unscoped.status_code == 422
    assert unscoped.json()["errors"][0]["field"] == "ci_id"
    assert await row_counts(incident_db, *TABLES) == before


async def test_only_problem_managers_change_problems_and_staff_read_them(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    r = await client.post("/api/v1/problems", json={"title": "x"}, headers=auth("agent"))
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/problems", headers=auth("agent"))).status_code == 200
    assert (await client.get("/api/v1/known-errors", headers=auth("auditor"))).status_code == 200
    # A requester sees their own incidents and requests and nothing else.
    refused = await client.get("/api/v1/known-errors", headers=auth("requester"))
    assert (refused.status_code, refused.json()["operation"]) == (403, "known_errors.search_known_errors")
    assert (await client.get("/api/v1/problems")).status_code == 401


BAD_REQUESTS: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("POST", "/api/v1/problems", {"title": ""}, 422),
    ("POST", "/api/v1/problems", {"title": "x", "impact": 7}, 422),
    ("POST", "/api/v1/problems", {"title": "x", "incident_ids": ["not-a-uuid"]}, 422),
    ("POST", "/api/v1/problems", {"title": "x", "incident_ids": [str(uuid.uuid4())]}, 422),  # no such incident
    ("POST", "/api/v1/problems", {"title": "x", "colour": "red"}, 422),
    ("PATCH", "/api/v1/problems/{id}", {}, 422),
    ("PATCH", "/api/v1/problems/{id}", {"title": None}, 422),
    ("PATCH", "/api/v1/problems/{id}", {"status": "closed"}, 422),
    ("POST", "/api/v1/problems/{id}/known-error", {"root_cause": "only half"}, 409),  # still new
    ("POST", "/api/v1/problems/{id}/resolve", {"resolution": ""}, 422),
    ("POST", "/api/v1/problems/{id}/cancel", {}, 422),
    ("POST", "/api/v1/problems/{id}/reopen", {"reason": "x"}, 409),
    ("POST", "/api/v1/problems/{id}/close", None, 409),
    ("POST", "/api/v1/problems/{id}/change", {"change_id": "x", "change_number": "CHG1"}, 422),
    ("POST", "/api/v1/problems/{id}/incidents", {"incident_ids": []}, 422),
    ("POST", "/api/v1/problems/{id}/incidents", {"incident_ids": [str(uuid.uuid4())]}, 422),
    ("POST", f"/api/v1/problems/{uuid.uuid4()}/investigate", None, 404),
    ("GET", "/api/v1/problems/not-a-uuid", None, 422),
    ("GET", "/api/v1/problems?status=open", None, 422),
    ("GET", "/api/v1/problems/trends?days=0", None, 422),
    (
        "POST",
        "/api/v1/known-errors",
        {"title": "x", "root_cause": "", "workaround": "w", "ci_id": str(uuid.uuid4())},
        422,
    ),
    ("GET", "/api/v1/known-errors?limit=0", None, 422),
    ("POST", f"/api/v1/known-errors/{uuid.uuid4()}/retire", None, 404),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), BAD_REQUESTS)
async def test_bad_input_is_a_problem_document_and_stores_nothing(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    incident_db: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
) -> None:
    pm = auth("problem_manager")
    target = (await client.post("/api/v1/problems", json={"title": "target"}, headers=pm)).json()
    before = await row_counts(incident_db, *TABLES)
    r = await client.request(method, path.replace("{id}", target["id"]), json=body, headers=pm)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"]
    assert await row_counts(incident_db, *TABLES) == before


async def _change_learnt(database_url: str, change_id: str, number: str) -> None:
    """The incident service learns a change from the change service's `change.created.v1`."""
    data = ChangeCreated(
        change_id=uuid.UUID(change_id),
        number=number,
        title="Firmware 9.4",
        type="normal",
        status="draft",
        requester="rita",
        created_at=datetime.now(UTC),
    )
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(engine, outbox, source="/itsm/test") as uow:
            await HANDLERS[data.routing_key](new_event(data, source="/itsm/change", subject=change_id), uow)
            await uow.commit()
    finally:
        await engine.dispose()


async def test_a_problem_is_linked_only_to_a_change_the_service_has_learnt_under_its_number(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    pm = auth("problem_manager")
    created = await client.post("/api/v1/problems", json={"title": "VPN drops", "description": "x"}, headers=pm)
    assert created.status_code == 201, created.text
    url = f"/api/v1/problems/{created.json()['id']}"
    known = str(uuid.uuid4())
    await _change_learnt(incident_db, known, "CHG0000777")
    before = await row_counts(incident_db, outbox)
    for body, field in [
        ({"change_id": str(uuid.uuid4()), "change_number": "CHG0000777"}, "change_id"),
        ({"change_id": known, "change_number": "CHG0000001"}, "change_number"),
    ]:
        refused = await client.post(f"{url}/change", json=body, headers=pm)
        assert refused.status_code == 422, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert await row_counts(incident_db, outbox) == before
    assert (await client.get(url, headers=pm)).json()["change_id"] is None
    linked = await client.post(f"{url}/change", json={"change_id": known, "change_number": "CHG0000777"}, headers=pm)
    assert (linked.status_code, linked.json()["change_id"]) == (200, known)


async def test_a_problem_is_recorded_only_on_a_ci_this_service_has_learnt_from_config(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    """A CI on a record is checked against the CMDB as config's events told it, on open and on edit."""
    pm, unknown = auth("problem_manager", subject="pam"), str(uuid.uuid4())
    body = {"title": "Disk fills", "description": "every night"}
    r = await client.post("/api/v1/problems", json={**body, "ci_id": unknown}, headers=pm)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["ci_id"]
    assert unknown in r.json()["errors"][0]["reason"]

    known = str(await seed_ci(incident_db))
    r = await client.post("/api/v1/problems", json={**body, "ci_id": known}, headers=pm)
    assert r.status_code == 201, r.text
    problem_id, etag = r.json()["id"], r.headers["etag"]
    r = await client.patch(f"/api/v1/problems/{problem_id}", json={"ci_id": unknown}, headers={**pm, "If-Match": etag})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["ci_id"]
    r = await client.get(f"/api/v1/problems/{problem_id}", headers=pm)
    assert r.json()["ci_id"] == known
