"""Records control over HTTP (ISO/IEC 20000-1 4.3.3), on PostgreSQL and on SQLite: admin sets
retention policies and places a legal hold; the disposal job (two replicas at once on PostgreSQL)
disposes of the closed incident past its period and logs it, keeps the held one, the open one and
the request not due yet; a second pass does nothing more; a released hold lets its record go."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.complaints import complaint_history, complaint_link
from services.incident.store.tables import incident_fact, incident_history, outbox, service_request_history
from shared.migrations import upgrade
from shared.retention_store import DISPOSAL_JOB as DISPOSAL
from tests.conftest import running
from tests.infra import Servers, create_service_database, eventually
from tests.records_control import HOLDS, LOG, POLICIES, all_published, count, isolated_settings, ok

pytestmark = pytest.mark.asyncio(loop_scope="session")

INCIDENTS, REQUESTS, ITEMS = "/api/v1/incidents", "/api/v1/requests", "/api/v1/catalogue/items"


@pytest.fixture(params=["postgresql", "sqlite"])
async def database(request: pytest.FixtureRequest, servers: Servers, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return await create_service_database(servers, "incident", label=f"records{uuid.uuid4().hex[:6]}")
    url = f"sqlite+aiosqlite:///{tmp_path / 'incident.db'}"
    await asyncio.to_thread(upgrade, "incident", url)
    return url


@pytest.fixture
def settings(database: str, servers: Servers, make_settings: Callable[..., Any]) -> Callable[[], Any]:
    return isolated_settings(IncidentSettings, database, servers, make_settings)


@pytest.fixture
def app(settings: Callable[[], Any]) -> FastAPI:
    return create_app(settings())


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as client:
        yield client


async def _closed_incident(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    body = {"title": "Printer jam", "caller": "bob", "impact": 3, "urgency": 3}
    created = await ok(await client.post(INCIDENTS, json=body, headers=admin))
    url = f"{INCIDENTS}/{created['id']}"
    await ok(await client.post(f"{url}/resolve", json={"resolution_code": "fixed"}, headers=admin))
    return dict(await ok(await client.post(f"{url}/close", json={}, headers=admin)))


async def _closed_request(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    item = await ok(await client.post(ITEMS, json={"name": "mouse", "fulfilment_group": "workplace"}, headers=admin))
    created = await ok(await client.post(REQUESTS, json={"catalogue_item_id": item["id"]}, headers=admin))
    url = f"{REQUESTS}/{created['id']}"
    for action, body in (("start", {}), ("fulfil", {"notes": "handed over"}), ("close", {})):
        await ok(await client.post(f"{url}/{action}", json=body, headers=admin))
    return dict(await ok(await client.get(url, headers=admin)))


def _rows_about(database: str, table: Any, column: str, record_id: str) -> Any:
    return count(database, select(func.count()).select_from(table).where(table.c[column] == uuid.UUID(record_id)))


async def _events(database: str, routing_key: str) -> int:
    return await count(database, select(func.count()).where(outbox.c.routing_key == routing_key))


async def test_a_record_past_retention_is_disposed_of_and_logged_and_a_held_or_undue_one_is_kept(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Callable[[], Any],
    database: str,
    auth: Callable[..., dict[str, str]],
) -> None:
    admin, auditor = auth("admin", subject="root"), auth("auditor", subject="audrey")
    policy = await ok(
        await client.put(f"{POLICIES}/incident", json={"retain_days": 30, "counted_from": "closed_at"}, headers=admin)
    )
    assert (policy["version"], policy["updated_by"]) == (1, "root")
    policy = await ok(
        await client.put(f"{POLICIES}/incident", json={"retain_days": 30, "counted_from": "closed_at"}, headers=admin)
    )
    assert policy["version"] == 2
    await ok(
        await client.put(f"{POLICIES}/request", json={"retain_days": 60, "counted_from": "closed_at"}, headers=admin)
    )

    due, held = await _closed_incident(client, admin), await _closed_incident(client, admin)
    still_open = await ok(
        await client.post(INCIDENTS, json={"title": "Slow", "caller": "bob", "impact": 3, "urgency": 3}, headers=admin)
    )
    request = await _closed_request(client, admin)
    hold_body = {"record_type": "incident", "record_id": held["id"], "reason": "litigation 2026-17"}
    hold = await ok(await client.post(HOLDS, json=hold_body, headers=admin))
    assert (hold["active"], hold["placed_by"]) == (True, "root")
    await eventually(lambda: all_published(database, outbox))
    assert await _rows_about(database, incident_history, "incident_id", due["id"]) > 0

    later = datetime.now(UTC) + timedelta(days=31)
    if database.startswith("postgresql"):
        replica = create_app(settings())
        async with running(replica):
            runtimes = [app.state.runtime, replica.state.runtime]
            await asyncio.gather(*(r.periodic.run_once(DISPOSAL, now=later) for r in runtimes))
    else:
        await app.state.runtime.periodic.run_once(DISPOSAL, now=later)

    # Disposed of: the row, its history, problem analysis's fact and its published events are gone.
    assert (await client.get(f"{INCIDENTS}/{due['id']}", headers=admin)).status_code == 404
    assert await _rows_about(database, incident_history, "incident_id", due["id"]) == 0
    assert await _rows_about(database, incident_fact, "incident_id", due["id"]) == 0
    about_due = select(func.count()).where(outbox.c.subject == due["id"], outbox.c.routing_key != "record.disposed.v1")
    assert await count(database, about_due) == 0
    # Kept: the held one, the open one, the request not due yet (60 days).
    for url in (f"{INCIDENTS}/{held['id']}", f"{INCIDENTS}/{still_open['id']}", f"{REQUESTS}/{request['id']}"):
        assert (await client.get(url, headers=admin)).status_code == 200
    # Logged, for the auditor: what, its number, when, under which policy version, by which pass.
    log = await ok(await client.get(LOG, headers=auditor))
    assert log["total"] == 1
    entry = log["items"][0]
    assert (entry["record_type"], entry["record_id"], entry["number"]) == ("incident", due["id"], due["number"])
    assert (entry["policy_version"], entry["retain_days"], entry["counted_from"], entry["action"]) == (
        2,
        30,
        "closed_at",
        "deleted",
    )
    assert datetime.fromisoformat(entry["disposed_at"]) == later
    assert await _events(database, "record.disposed.v1") == 1
    assert await _events(database, "legal_hold.placed.v1") == 1

    # A second pass does nothing more.
    await app.state.runtime.periodic.run_once(DISPOSAL, now=later)
    assert (await ok(await client.get(LOG, headers=auditor)))["total"] == 1
    assert await _events(database, "record.disposed.v1") == 1

    # Released, the held incident goes at the next pass; past 60 days, the request goes too.
    released = await ok(await client.post(f"{HOLDS}/{hold['id']}/release", json={"reason": "settled"}, headers=admin))
    assert (released["active"], released["released_by"], released["release_reason"]) == (False, "root", "settled")
    await app.state.runtime.periodic.run_once(DISPOSAL, now=datetime.now(UTC) + timedelta(days=61))
    log = await ok(await client.get(LOG, headers=auditor))
    assert {(i["record_type"], i["number"]) for i in log["items"]} == {
        ("incident", due["number"]),
        ("incident", held["number"]),
        ("request", request["number"]),
    }
    assert len({i["job_run"] for i in log["items"]}) == 2
    assert await _rows_about(database, service_request_history, "request_id", request["id"]) == 0
    assert (await client.get(f"{INCIDENTS}/{still_open['id']}", headers=admin)).status_code == 200
    assert await _events(database, "legal_hold.released.v1") == 1


async def test_a_hold_on_a_record_type_keeps_every_record_of_it(
    app: FastAPI, client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    admin = auth("admin", subject="root")
    await ok(
        await client.put(f"{POLICIES}/incident", json={"retain_days": 1, "counted_from": "closed_at"}, headers=admin)
    )
    closed = [await _closed_incident(client, admin) for _ in range(2)]
    hold = await ok(await client.post(HOLDS, json={"record_type": "incident", "reason": "regulator"}, headers=admin))
    assert hold["record_id"] is None
    await app.state.runtime.periodic.run_once(DISPOSAL, now=datetime.now(UTC) + timedelta(days=2))
    for record in closed:
        assert (await client.get(f"{INCIDENTS}/{record['id']}", headers=admin)).status_code == 200
    listed = await ok(await client.get(HOLDS, params={"active": "true", "record_type": "incident"}, headers=admin))
    assert [h["id"] for h in listed["items"]] == [hold["id"]]


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    ("method", "url", "body", "status", "field"),
    [
        ("put", f"{POLICIES}/problem", {"retain_days": 30, "counted_from": "closed_at"}, 422, "record_type"),
        ("put", f"{POLICIES}/incident", {"retain_days": 30, "counted_from": "opened_at"}, 422, "counted_from"),
        ("put", f"{POLICIES}/incident", {"retain_days": 0, "counted_from": "closed_at"}, 422, "retain_days"),
        ("put", f"{POLICIES}/incident", {"retain_days": 30}, 422, "counted_from"),
        ("post", HOLDS, {"record_type": "incident", "reason": "x" * 2001}, 422, "reason"),
        ("post", HOLDS, {"record_type": "incident", "reason": " "}, 422, "reason"),
        ("post", HOLDS, {"record_type": "incident", "reason": "a", "until": "2030-01-01T00:00:00"}, 422, "until"),
        ("post", HOLDS, {"record_type": "incident", "reason": "a", "until": "9999-12-31T23:59:00-10:00"}, 422, "until"),
        ("post", HOLDS, {"record_type": "incident", "record_id": str(uuid.uuid4()), "reason": "a"}, 422, "record_id"),
        ("post", HOLDS, {"record_type": "problem", "reason": "a"}, 422, "record_type"),
        ("post", f"{HOLDS}/{uuid.uuid4()}/release", {}, 404, None),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    method: str,
    url: str,
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    admin = auth("admin", subject="root")
    r = await client.request(method, url, json=body, headers=admin)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in [e["field"] for e in r.json()["errors"]]
    assert (await ok(await client.get(HOLDS, headers=admin)))["total"] == 0
    assert await ok(await client.get(POLICIES, headers=admin)) == []


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_released_hold_cannot_be_released_again(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    admin = auth("admin", subject="root")
    hold = await ok(await client.post(HOLDS, json={"record_type": "request", "reason": "audit"}, headers=admin))
    url = f"{HOLDS}/{hold['id']}/release"
    await ok(await client.post(url, json={}, headers=admin))
    again = await client.post(url, json={}, headers=admin)
    assert again.status_code == 409, again.text
    assert (await ok(await client.get(f"{HOLDS}/{hold['id']}", headers=auth("auditor"))))["active"] is False


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_closed_complaint_past_retention_is_disposed_of_with_its_history_and_links(
    app: FastAPI, client: httpx.AsyncClient, database: str, auth: Callable[..., dict[str, str]]
) -> None:
    admin, agent = auth("admin", subject="root"), auth("agent", subject="ann")
    policy = {"retain_days": 365, "counted_from": "closed_at"}
    await ok(await client.put(f"{POLICIES}/complaint", json=policy, headers=admin))
    ticket = await _closed_incident(client, admin)
    body = {"title": "Nobody called me back", "complainant": "alice", "relationship_manager": "rita"}
    complaint = await ok(await client.post("/api/v1/complaints", json=body, headers=agent))
    url = f"/api/v1/complaints/{complaint['id']}"
    link = {"incident_ids": [ticket["id"]]}
    steps = [
        ("links", link, agent),
        ("acknowledge", {}, agent),
        ("investigate", {"notes": "the call-back queue was unwatched"}, agent),
        ("take-action", {"actions_taken": "called back, new rota"}, agent),
        ("resolve", {"resolution": "we now call back within a day"}, agent),
        ("confirm", {"comment": "thanks"}, auth("requester", subject="alice")),
    ]
    for action, step, who in steps:
        await ok(await client.post(f"{url}/{action}", json=step, headers=who))
    assert await _rows_about(database, complaint_link, "complaint_id", complaint["id"]) == 1

    await app.state.runtime.periodic.run_once(DISPOSAL, now=datetime.now(UTC) + timedelta(days=364))
    assert (await client.get(url, headers=admin)).status_code == 200
    await app.state.runtime.periodic.run_once(DISPOSAL, now=datetime.now(UTC) + timedelta(days=366))
    assert (await client.get(url, headers=admin)).status_code == 404
    assert await _rows_about(database, complaint_history, "complaint_id", complaint["id"]) == 0
    assert await _rows_about(database, complaint_link, "complaint_id", complaint["id"]) == 0
    log = await ok(await client.get(LOG, params={"record_type": "complaint"}, headers=auth("auditor")))
    assert [(i["number"], i["policy_version"]) for i in log["items"]] == [(complaint["number"], 1)]
    # The incident it named has its own policy (none here): it stays.
    assert (await client.get(f"{INCIDENTS}/{ticket['id']}", headers=admin)).status_code == 200
