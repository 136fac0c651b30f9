"""The change API in process, against the run's PostgreSQL and RabbitMQ."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.change.app import create_app
from services.change.settings import ChangeSettings
from services.change.store.tables import change, outbox
from shared.events.change import ChangeCreated
from tests.conftest import running
from tests.infra import outbox_events, row_counts

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


async def _create(client: httpx.AsyncClient, auth: Auth, **body: Any) -> dict[str, Any]:
    r = await client.post(URL, json={"title": "Patch mail", **body}, headers=auth("requester"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_a_change_is_drafted_numbered_and_owned_by_the_caller(client: httpx.AsyncClient, auth: Auth) -> None:
    ci_a, ci_b = sorted([uuid.uuid4(), uuid.uuid4()])
    body = {
        "title": "Upgrade the mail cluster",
        "description": "Rolling upgrade",
        "justification": "End of support",
        "type": "normal",
        "category": "software",
        "planned_start": "2026-12-01T22:00:00+02:00",
        "planned_end": "2026-12-02T01:00:00+02:00",
        "affected_ci_ids": [str(ci_b), str(ci_a), str(ci_b)],
    }
    created = await client.post(URL, json=body, headers=auth("requester", subject="alice"))
    assert created.status_code == 201, created.text
    read = created.json()
    assert re.fullmatch(r"CHG\d{7}", read["number"])
    assert read["status"] == "draft"
    assert read["requester"] == "alice"
    assert read["version"] == 1
    assert read["planned_start"] == "2026-12-01T20:00:00Z"
    assert read["planned_end"] == "2026-12-01T23:00:00Z"
    assert read["affected_ci_ids"] == [str(ci_a), str(ci_b)]
    assert created.headers["location"] == f"{URL}/{read['id']}"
    assert created.headers["etag"] == 'W/"1"'

    fetched = await client.get(created.headers["location"], headers=auth("auditor"))
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == 'W/"1"'
    assert fetched.json() == read


@pytest.mark.parametrize(("role", "status"), [("requester", 201), ("change_manager", 201), ("agent", 403)])
async def test_requesters_and_change_managers_may_raise_a_change(
    client: httpx.AsyncClient, auth: Auth, role: str, status: int
) -> None:
    r = await client.post(URL, json={"title": "Who may"}, headers=auth(role))
    assert r.status_code == status, r.text


async def test_list_filters_by_status_and_type(client: httpx.AsyncClient, auth: Auth) -> None:
    ci = uuid.uuid4()
    emergency = await _create(client, auth, type="emergency", justification="Mail is down", affected_ci_ids=[str(ci)])
    await _create(client, auth, type="standard")

    found = (await client.get(URL, params={"type": "emergency", "limit": 200}, headers=auth("auditor"))).json()
    assert {i["type"] for i in found["items"]} == {"emergency"}
    listed = next(i for i in found["items"] if i["id"] == emergency["id"])
    assert listed == emergency

    everything = (await client.get(URL, headers=auth("auditor"))).json()["total"]
    drafts = (await client.get(URL, params={"status": "draft"}, headers=auth("auditor"))).json()
    assert drafts["total"] == everything
    approved = (await client.get(URL, params={"status": "approved"}, headers=auth("auditor"))).json()
    assert approved == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_pages_cover_the_list_once_newest_first(client: httpx.AsyncClient, auth: Auth) -> None:
    for _ in range(3):
        await _create(client, auth)
    whole = (await client.get(URL, params={"limit": 200}, headers=auth("auditor"))).json()
    assert [i["created_at"] for i in whole["items"]] == sorted((i["created_at"] for i in whole["items"]), reverse=True)
    paged: list[str] = []
    for offset in range(0, whole["total"], 2):
        page = (await client.get(URL, params={"limit": 2, "offset": offset}, headers=auth("auditor"))).json()
        assert page["total"] == whole["total"] and page["offset"] == offset and len(page["items"]) <= 2
        paged += [i["id"] for i in page["items"]]
    assert paged == [i["id"] for i in whole["items"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "planned_start": "2026-12-01T22:00:00Z", "planned_end": "2026-12-01T22:00:00Z"}, "planned_end"),
        ({"title": "x", "planned_start": "2026-12-01T22:00:00Z", "planned_end": "2026-12-01T21:00:00Z"}, "planned_end"),
        ({"title": "x", "planned_start": "2026-12-01T22:00:00"}, "planned_start"),
        ({"title": "x", "type": "emergency"}, "justification"),
        ({"title": "x", "type": "major"}, "type"),
        ({"title": "x" * 201}, "title"),
        ({"description": "no title"}, "title"),
        ({"title": "x", "affected_ci_ids": ["not-a-uuid"]}, "affected_ci_ids.0"),
        ({"title": "x", "requester": "mallory"}, "requester"),
    ],
)
async def test_invalid_input_is_a_422_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient, auth: Auth, change_db: str, body: dict[str, Any], field: str
) -> None:
    before = await row_counts(change_db, change, outbox)
    r = await client.post(URL, json=body, headers=auth("requester"))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await row_counts(change_db, change, outbox) == before


async def test_a_create_writes_exactly_one_change_created_event(
    client: httpx.AsyncClient, auth: Auth, change_db: str
) -> None:
    changes_before, events_before = await row_counts(change_db, change, outbox)
    read = await _create(client, auth, type="standard")
    assert await row_counts(change_db, change, outbox) == (changes_before + 1, events_before + 1)
    [event] = await outbox_events(change_db, outbox, read["id"])
    assert event.type == "itsm.change.created.v1"
    data = event.data_as(ChangeCreated)
    assert (str(data.change_id), data.number, data.type, data.status) == (
        read["id"],
        read["number"],
        "standard",
        "draft",
    )
