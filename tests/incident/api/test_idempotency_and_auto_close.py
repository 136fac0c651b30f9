"""Idempotency-Key on creating an incident, and the auto-close job (two replicas), on a real
PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import idempotency_key, incident, outbox
from shared.db import create_engine
from tests.conftest import running
from tests.infra import outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/incidents"
BODY = {"title": "Printer jam", "caller": "bob", "impact": 3, "urgency": 3}


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def app(incident_db: str, make_settings: Callable[..., Any]) -> FastAPI:
    return create_app(make_settings(IncidentSettings, incident_db, auto_close_after_days=5))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as client:
        yield client


async def test_the_same_key_and_body_answer_the_first_response_without_a_second_record_or_event(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    headers = {**auth("agent", subject="ann"), "Idempotency-Key": str(uuid.uuid4())}
    before = await row_counts(incident_db, incident, outbox)
    first = await client.post(URL, json=BODY, headers=headers)
    assert first.status_code == 201
    # The same request again, its keys in another order: still the same body.
    again = await client.post(URL, json=dict(reversed(list(BODY.items()))), headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await row_counts(incident_db, incident, outbox) == (before[0] + 1, before[1] + 1)

    other_body = await client.post(URL, json={**BODY, "title": "Another printer"}, headers=headers)
    assert other_body.status_code == 422
    assert other_body.headers["content-type"].startswith("application/problem+json")
    assert other_body.json()["errors"][0]["field"] == "Idempotency-Key"
    # Keys are the caller's: someone else's request with the same key is their own.
    theirs = await client.post(
        URL, json=BODY, headers={**auth("agent", subject="max"), "Idempotency-Key": headers["Idempotency-Key"]}
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert await row_counts(incident_db, incident, outbox) == (before[0] + 2, before[1] + 2)


async def test_two_requests_with_one_key_at_the_same_time_create_once(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    headers = {**auth("agent"), "Idempotency-Key": str(uuid.uuid4())}
    before = await row_counts(incident_db, incident, outbox)
    answers = await asyncio.gather(*(client.post(URL, json=BODY, headers=headers) for _ in range(4)))
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1
    assert await row_counts(incident_db, incident, outbox) == (before[0] + 1, before[1] + 1)


async def test_an_expired_key_is_a_new_one_and_a_refused_create_keeps_no_key(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    key = str(uuid.uuid4())
    headers = {**auth("agent"), "Idempotency-Key": key}
    bad = await client.post(URL, json={**BODY, "ci_id": str(uuid.uuid4())}, headers=headers)  # unknown CI: 422
    assert bad.status_code == 422
    first = await client.post(URL, json=BODY, headers=headers)  # the key was not taken by the refused one
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    engine = create_engine(incident_db)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(idempotency_key)
                .where(idempotency_key.c.key == key)
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
    finally:
        await engine.dispose()
    after_expiry = await client.post(URL, json=BODY, headers=headers)
    assert after_expiry.status_code == 201 and after_expiry.json()["id"] != first.json()["id"]


@pytest.mark.parametrize("key", ["", "x" * 201, "with space"])
async def test_a_malformed_key_is_a_422_naming_the_header_and_stores_nothing(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str, key: str
) -> None:
    before = await row_counts(incident_db, incident, outbox, idempotency_key)
    r = await client.post(URL, json=BODY, headers={**auth("agent"), "Idempotency-Key": key})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await row_counts(incident_db, incident, outbox, idempotency_key) == before


async def _resolved(client: httpx.AsyncClient, headers: dict[str, str], *, major: bool = False) -> str:
    created = (await client.post(URL, json=BODY, headers=headers)).json()
    if major:
        r = await client.post(f"{URL}/{created['id']}/major", json={"manager": "mia"}, headers=headers)
        assert r.status_code == 200, r.text
    r = await client.post(f"{URL}/{created['id']}/resolve", json={"resolution_code": "fixed"}, headers=headers)
    assert r.status_code == 200, r.text
    return str(created["id"])


async def test_auto_close_closes_each_incident_resolved_long_enough_exactly_once_with_two_replicas(
    app: FastAPI,
    client: httpx.AsyncClient,
    incident_db: str,
    make_settings: Callable[..., Any],
    auth: Callable[..., dict[str, str]],
) -> None:
    headers = auth("admin", subject="ann")
    due = [await _resolved(client, headers) for _ in range(3)]
    major_without_review = await _resolved(client, headers, major=True)
    fresh = await _resolved(client, headers)
    engine = create_engine(incident_db)
    resolved_long_ago = datetime.now(UTC) - timedelta(days=6)
    try:
        async with engine.begin() as conn:
            ids = [uuid.UUID(i) for i in (*due, major_without_review)]
            await conn.execute(update(incident).where(incident.c.id.in_(ids)).values(resolved_at=resolved_long_ago))
    finally:
        await engine.dispose()

    replica = create_app(make_settings(IncidentSettings, incident_db, auto_close_after_days=5))
    async with running(replica):
        runtimes = [app.state.runtime, replica.state.runtime]
        await asyncio.gather(*(r.periodic.run_once("auto-close") for r in runtimes for _ in range(2)))

    for incident_id in due:
        closed = (await client.get(f"{URL}/{incident_id}", headers=headers)).json()
        assert (closed["status"], closed["closed_by"]) == ("closed", "auto_closed")
        types = [e.routing_key for e in await outbox_events(incident_db, outbox, incident_id)]
        assert types.count("incident.closed.v1") == 1
        history = (await client.get(f"{URL}/{incident_id}/history", headers=headers)).json()
        close = next(h for h in history if h["action"] == "close" and h["field"] == "status")
        assert close["actor"] == "auto-close" and "5 days" in close["reason"]
    for incident_id in (major_without_review, fresh):
        assert (await client.get(f"{URL}/{incident_id}", headers=headers)).json()["status"] == "resolved"

    engine = create_engine(incident_db)
    try:
        async with engine.connect() as conn:
            still_resolved = (await conn.execute(select(incident.c.id).where(incident.c.status == "resolved"))).all()
    finally:
        await engine.dispose()
    assert uuid.UUID(major_without_review) in {r.id for r in still_resolved}


async def test_a_create_claims_its_key_once_in_its_own_transaction(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    # POST /incidents claims the key in the create's transaction; the app-wide middleware, which
    # claims keys in a transaction of its own for every other create, leaves this route to it.
    before = await row_counts(incident_db, idempotency_key)
    answer = await client.post(URL, json=BODY, headers={**auth("agent"), "Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 201
    assert "idempotent-replayed" not in answer.headers
    assert await row_counts(incident_db, idempotency_key) == (before[0] + 1,)
