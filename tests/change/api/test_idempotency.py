"""`Idempotency-Key` on change's creates (the shared mechanism every service mounts)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.change.app import create_app
from services.change.settings import ChangeSettings
from services.change.store.tables import change, idempotency_key, outbox
from tests.conftest import running
from tests.infra import row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/changes"
Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def change_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("change"))


@pytest.fixture
async def client(change_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ChangeSettings, change_db))) as client:
        yield client


async def test_the_same_key_twice_makes_one_change_and_answers_the_first_response(
    client: httpx.AsyncClient, auth: Auth, change_db: str
) -> None:
    headers = {**auth("requester", subject="rita"), "Idempotency-Key": str(uuid.uuid4())}
    before = await row_counts(change_db, change, outbox)
    first = await client.post(URL, json={"title": "Patch the mail relay"}, headers=headers)
    again = await client.post(URL, json={"title": "Patch the mail relay"}, headers=headers)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await row_counts(change_db, change, outbox) == (before[0] + 1, before[1] + 1)

    other = await client.post(URL, json={"title": "Something else"}, headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    # Another caller's key is their own.
    theirs = await client.post(
        URL,
        json={"title": "Patch the mail relay"},
        headers={**auth("requester", subject="sam"), "Idempotency-Key": headers["Idempotency-Key"]},
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]


async def test_concurrent_requests_with_one_key_create_once(
    client: httpx.AsyncClient, auth: Auth, change_db: str
) -> None:
    headers = {**auth("requester", subject="rita"), "Idempotency-Key": str(uuid.uuid4())}
    before = await row_counts(change_db, change)
    answers = await asyncio.gather(*(client.post(URL, json={"title": "At once"}, headers=headers) for _ in range(4)))
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1
    assert await row_counts(change_db, change) == (before[0] + 1,)


async def test_a_refused_create_keeps_no_key_and_a_malformed_key_is_a_422(
    client: httpx.AsyncClient, auth: Auth, change_db: str
) -> None:
    key = str(uuid.uuid4())
    headers = {**auth("requester", subject="rita"), "Idempotency-Key": key}
    assert (await client.post(URL, json={"title": ""}, headers=headers)).status_code == 422
    assert (await client.post(URL, json={"title": "Now right"}, headers=headers)).status_code == 201

    before = await row_counts(change_db, change, idempotency_key)
    bad = await client.post(URL, json={"title": "x"}, headers={**headers, "Idempotency-Key": "with space"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await row_counts(change_db, change, idempotency_key) == before


async def test_expired_keys_are_purged_by_the_shared_job(
    change_db: str, make_settings: Callable[..., Any], auth: Auth
) -> None:
    app = create_app(make_settings(ChangeSettings, change_db, run_worker=False))
    key = str(uuid.uuid4())
    async with running(app) as client:
        headers = {**auth("requester", subject="rita"), "Idempotency-Key": key}
        assert (await client.post(URL, json={"title": "Soon forgotten"}, headers=headers)).status_code == 201
        runtime = app.state.runtime
        await runtime.periodic.run_once("idempotency-purge", now=datetime.now(UTC) + timedelta(hours=25))
        async with runtime.engine.connect() as conn:
            left = await conn.scalar(
                select(func.count()).select_from(idempotency_key).where(idempotency_key.c.key == key)
            )
    assert left == 0
