"""The incident API in process, against the run's PostgreSQL and RabbitMQ (the HTTP contract every
service shares is in tests/flows/api)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import incident, outbox
from tests.conftest import running
from tests.incident.cis import seed_ci
from tests.infra import row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def client(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(IncidentSettings, incident_db, max_body_bytes=4096))
    async with running(app) as client:
        yield client


async def test_creating_an_incident_numbers_it_and_sets_priority_from_the_matrix(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    ci_id = await seed_ci(incident_db)
    body = {"title": "Mail is down", "caller": "bob@example.com", "impact": 1, "urgency": 2, "ci_id": str(ci_id)}
    created = await client.post("/api/v1/incidents", json=body, headers=auth("agent"))
    assert created.status_code == 201, created.text
    incident_read = created.json()
    assert incident_read["number"].startswith("INC") and len(incident_read["number"]) == 10
    assert incident_read["priority"] == 2
    assert incident_read["status"] == "new"
    assert created.headers["location"] == f"/api/v1/incidents/{incident_read['id']}"

    fetched = await client.get(created.headers["location"], headers=auth("auditor"))
    assert fetched.status_code == 200
    assert fetched.json() == incident_read


async def test_numbers_increase_without_gaps_in_one_process(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    numbers = []
    for _ in range(3):
        r = await client.post(
            "/api/v1/incidents", json={"title": "t", "caller": "c", "impact": 3, "urgency": 3}, headers=auth("agent")
        )
        numbers.append(int(r.json()["number"][3:]))
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


async def test_list_filters_by_status_and_priority_and_paginates(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    for impact, urgency in [(1, 1), (1, 1), (3, 3)]:
        r = await client.post(
            "/api/v1/incidents",
            json={"title": "listed", "caller": "c", "impact": impact, "urgency": urgency},
            headers=auth("agent"),
        )
        assert r.status_code == 201
    p1 = (await client.get("/api/v1/incidents", params={"priority": 1, "status": "new"}, headers=auth("agent"))).json()
    assert p1["total"] >= 2
    assert all(i["priority"] == 1 and i["status"] == "new" for i in p1["items"])
    page = (await client.get("/api/v1/incidents", params={"limit": 1, "offset": 1}, headers=auth("agent"))).json()
    assert page["limit"] == 1 and page["offset"] == 1 and len(page["items"]) == 1
    assert page["total"] >= 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"caller": "c", "impact": 1, "urgency": 1}, "title"),
        ({"title": "x", "caller": "c", "impact": 4, "urgency": 1}, "impact"),
        ({"title": "x", "caller": "c", "impact": 1, "urgency": "high"}, "urgency"),
        ({"title": "x", "caller": "c", "impact": 1, "urgency": 1, "ci_id": "not-a-uuid"}, "ci_id"),
    ],
)
async def test_invalid_input_is_a_422_problem_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str, body: dict[str, Any], field: str
) -> None:
    before = await row_counts(incident_db, incident, outbox)
    r = await client.post("/api/v1/incidents", json=body, headers=auth("agent"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]]
    assert await row_counts(incident_db, incident, outbox) == before


async def test_each_create_writes_exactly_one_outbox_event(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    incidents_before, events_before = await row_counts(incident_db, incident, outbox)
    r = await client.post(
        "/api/v1/incidents", json={"title": "x", "caller": "c", "impact": 2, "urgency": 2}, headers=auth("agent")
    )
    assert r.status_code == 201
    assert await row_counts(incident_db, incident, outbox) == (incidents_before + 1, events_before + 1)
