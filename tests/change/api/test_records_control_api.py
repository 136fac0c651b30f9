"""Records control in the change service (ISO/IEC 20000-1 4.3.3), the same mechanism as the
incident and supplier services': a closed and a cancelled change past their retention period are
disposed of with their votes, review, cost and published events, and logged; a held one, an open one
and one not in a final status are kept; a second pass does nothing more; a released hold lets its
change go. The same for releases: closed and cancelled ones go, a held and a planned one stay."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from services.change.app import create_app
from services.change.settings import ChangeSettings
from services.change.store.tables import change, change_cost, change_review, change_vote, outbox
from shared import clock
from shared.db import create_engine
from shared.retention_store import DISPOSAL_JOB
from tests.conftest import running
from tests.infra import Servers, create_service_database, eventually
from tests.records_control import HOLDS, LOG, POLICIES, all_published, count, isolated_settings, ok

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHANGES, RELEASES = "/api/v1/changes", "/api/v1/releases"
POLICY = f"{POLICIES}/change"
Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def database(servers: Servers) -> str:
    return await create_service_database(servers, "change", label="records")


@pytest.fixture
def app(database: str, servers: Servers, make_settings: Callable[..., Any]) -> FastAPI:
    return create_app(isolated_settings(ChangeSettings, database, servers, make_settings)())


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as client:
        yield client


async def _stamp_closed_at(database: str, record: dict[str, Any]) -> None:
    """Sets `closed_at` on a change without closing it (not something its lifecycle does)."""
    engine = create_engine(database)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(change).where(change.c.id == uuid.UUID(record["id"])).values(closed_at=clock.now())
            )
    finally:
        await engine.dispose()


def _rows(table: Any, record: dict[str, Any]) -> Any:
    return select(func.count()).select_from(table).where(table.c.change_id == uuid.UUID(record["id"]))


async def _change(client: httpx.AsyncClient, auth: Auth, *, to: str) -> dict[str, Any]:
    """A change by rita, taken to `to`: submitted, cancelled or closed (approved, implemented, reviewed)."""
    rita, mike = auth("requester", subject="rita"), auth("change_manager", subject="mike")
    start = datetime.now(UTC) + timedelta(hours=1)
    body = {
        "title": "Patch the mail relays",
        "justification": "security fix",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=2)).isoformat(),
    }
    created = await ok(await client.post(CHANGES, json=body, headers=rita))
    url = f"{CHANGES}/{created['id']}"
    if to == "cancelled":
        return dict(await ok(await client.post(f"{url}/cancel", headers=rita)))
    await ok(await client.put(f"{url}/cost", json={"currency": "EUR", "estimated_cost": "120.00"}, headers=rita))
    submitted = await ok(await client.post(f"{url}/submit", headers=rita))
    if to == "submitted":
        return dict(submitted)
    await ok(await client.post(f"{url}/assess", json={"risk": "low"}, headers=auth("change_manager", subject="ann")))
    await ok(await client.post(f"{url}/approve", json={"comment": "go"}, headers=mike))
    for action, step in (("schedule", None), ("start", None), ("complete", None), ("review", {"outcome": "ok"})):
        await ok(await client.post(f"{url}/{action}", json=step, headers=mike))
    return dict(await ok(await client.post(f"{url}/close", headers=mike)))


async def test_a_final_change_past_retention_is_disposed_of_and_a_held_open_or_unfinished_one_is_kept(
    app: FastAPI, client: httpx.AsyncClient, database: str, auth: Auth
) -> None:
    admin, auditor = auth("admin", subject="root"), auth("auditor", subject="audrey")
    wrong = await client.put(POLICY, json={"retain_days": 365, "counted_from": "created_at"}, headers=admin)
    assert wrong.status_code == 422 and "counted_from" in wrong.text
    policy = await ok(await client.put(POLICY, json={"retain_days": 365, "counted_from": "closed_at"}, headers=admin))
    assert (policy["record_type"], policy["version"], policy["updated_by"]) == ("change", 1, "root")

    closed, cancelled, held = [await _change(client, auth, to=s) for s in ("closed", "cancelled", "closed")]
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert cancelled["status"] == "cancelled" and cancelled["closed_at"] is not None
    still_open, unfinished = [await _change(client, auth, to="submitted") for _ in range(2)]
    assert still_open["closed_at"] is None
    await _stamp_closed_at(database, unfinished)  # a timestamp without a final status is not enough
    hold = await ok(
        await client.post(
            HOLDS, json={"record_type": "change", "record_id": held["id"], "reason": "audit 2026-4"}, headers=admin
        )
    )
    assert await count(database, _rows(change_vote, closed)) == 1
    assert await count(database, _rows(change_review, closed)) == 1
    assert await count(database, _rows(change_cost, closed)) == 1
    await eventually(lambda: all_published(database, outbox))

    later = datetime.now(UTC) + timedelta(days=366)
    for _ in range(2):  # the second pass does nothing more
        await app.state.runtime.periodic.run_once(DISPOSAL_JOB, now=later)

    for gone in (closed, cancelled):
        assert (await client.get(f"{CHANGES}/{gone['id']}", headers=admin)).status_code == 404
        about = select(func.count()).where(outbox.c.subject == gone["id"], outbox.c.routing_key != "record.disposed.v1")
        assert await count(database, about) == 0
    for part in (change_vote, change_review, change_cost):
        assert await count(database, _rows(part, closed)) == 0
    for kept in (held, still_open, unfinished):
        assert (await client.get(f"{CHANGES}/{kept['id']}", headers=admin)).status_code == 200
    log = await ok(await client.get(LOG, params={"record_type": "change"}, headers=auditor))
    assert {(i["record_type"], i["number"], i["policy_version"], i["action"]) for i in log["items"]} == {
        ("change", closed["number"], 1, "deleted"),
        ("change", cancelled["number"], 1, "deleted"),
    }
    disposed = select(func.count()).where(
        outbox.c.routing_key == "record.disposed.v1", outbox.c.subject.in_([closed["id"], cancelled["id"]])
    )
    assert await count(database, disposed) == 2

    released = await ok(await client.post(f"{HOLDS}/{hold['id']}/release", json={"reason": "closed"}, headers=admin))
    assert released["active"] is False
    await app.state.runtime.periodic.run_once(DISPOSAL_JOB, now=later)
    assert (await client.get(f"{CHANGES}/{held['id']}", headers=admin)).status_code == 404
    assert (await ok(await client.get(LOG, params={"record_type": "change"}, headers=auditor)))["total"] == 3
    for kept in (still_open, unfinished):
        assert (await client.get(f"{CHANGES}/{kept['id']}", headers=admin)).status_code == 200


async def _release(client: httpx.AsyncClient, auth: Auth, *, to: str) -> dict[str, Any]:
    """A release, taken to `to`: planned, cancelled or closed (built, accepted, deployed)."""
    mike = auth("change_manager", subject="mike")
    body = {"name": "Checkout", "version": "2.4.0", "acceptance_criteria": ["p95 under 300 ms"]}
    created = await ok(await client.post(RELEASES, json=body, headers=mike))
    url = f"{RELEASES}/{created['id']}"
    steps = {"planned": [], "cancelled": [("cancel", None)]}.get(to)
    if steps is None:
        steps = [("build", None), ("accept", {"notes": "load test passed"}), ("deploy", None), ("close", None)]
    for action, step in steps:
        created = await ok(await client.post(f"{url}/{action}", json=step, headers=mike))
    return dict(created)


async def test_a_final_release_past_retention_is_disposed_of_and_a_held_or_planned_one_is_kept(
    app: FastAPI, client: httpx.AsyncClient, database: str, auth: Auth
) -> None:
    admin, auditor = auth("admin", subject="root"), auth("auditor", subject="audrey")
    policy = {"retain_days": 30, "counted_from": "closed_at"}
    assert (await ok(await client.put(f"{POLICIES}/release", json=policy, headers=admin)))["version"] == 1
    closed, cancelled, held, planned = [
        await _release(client, auth, to=s) for s in ("closed", "cancelled", "cancelled", "planned")
    ]
    assert (closed["status"], cancelled["status"], planned["closed_at"]) == ("closed", "cancelled", None)
    assert closed["closed_at"] is not None
    hold = {"record_type": "release", "record_id": held["id"], "reason": "contract dispute"}
    await ok(await client.post(HOLDS, json=hold, headers=admin))
    await eventually(lambda: all_published(database, outbox))

    await app.state.runtime.periodic.run_once(DISPOSAL_JOB, now=datetime.now(UTC) + timedelta(days=31))

    for gone in (closed, cancelled):
        assert (await client.get(f"{RELEASES}/{gone['id']}", headers=admin)).status_code == 404
        about = select(func.count()).where(outbox.c.subject == gone["id"], outbox.c.routing_key != "record.disposed.v1")
        assert await count(database, about) == 0
    for kept in (held, planned):
        assert (await client.get(f"{RELEASES}/{kept['id']}", headers=admin)).status_code == 200
    log = await ok(await client.get(LOG, params={"record_type": "release"}, headers=auditor))
    assert {(i["number"], i["retain_days"]) for i in log["items"]} == {
        (closed["number"], 30),
        (cancelled["number"], 30),
    }


async def test_only_admin_manages_records_control_and_the_auditor_reads_it(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    body = {"retain_days": 30, "counted_from": "closed_at"}
    for role in ("requester", "change_manager", "cab_member", "pipeline", "auditor"):
        refused = await client.put(POLICY, json=body, headers=auth(role))
        assert refused.status_code == 403, role
        hold = {"record_type": "change", "reason": "x"}
        assert (await client.post(HOLDS, json=hold, headers=auth(role))).status_code == 403, role
    for role in ("requester", "change_manager", "cab_member", "pipeline"):
        for url in (POLICIES, HOLDS, LOG):
            assert (await client.get(url, headers=auth(role))).status_code == 403, (role, url)
    for url in (POLICIES, HOLDS, LOG):
        assert (await client.get(url, headers=auth("auditor"))).status_code == 200, url
    unknown = await client.post(HOLDS, json={"record_type": "deployment", "reason": "x"}, headers=auth("admin"))
    assert unknown.status_code == 422 and "record_type" in unknown.text
    missing = {"record_type": "change", "record_id": str(uuid.uuid4()), "reason": "x"}
    assert (await client.post(HOLDS, json=missing, headers=auth("admin"))).status_code == 422
