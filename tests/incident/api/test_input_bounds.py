"""Input that cannot hurt the incident service: huge offsets, PATCH to null on a problem and a
body that is not JSON are 4xx problems naming the field, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import incident
from tests.conftest import running
from tests.infra import row_counts
from tests.problems import assert_problem_naming

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def client(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(IncidentSettings, incident_db, run_worker=False))) as client:
        yield client


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/problems", "/api/v1/known-errors"])
async def test_an_offset_past_64_bits_is_a_422_naming_it(client: httpx.AsyncClient, auth: Auth, path: str) -> None:
    r = await client.get(path, params={"offset": 2**63}, headers=auth("auditor"))
    assert_problem_naming(r, 422, "offset")


@pytest.mark.parametrize("field", ["workaround", "root_cause", "description"])
async def test_a_problem_patch_to_null_is_a_422_naming_the_field(
    client: httpx.AsyncClient, auth: Auth, field: str
) -> None:
    pm = auth("problem_manager")
    created = await client.post("/api/v1/problems", json={"title": "VPN drops"}, headers=pm)
    assert created.status_code == 201, created.text
    r = await client.patch(
        f"/api/v1/problems/{created.json()['id']}", json={field: None}, headers={**pm, "If-Match": 'W/"1"'}
    )
    assert_problem_naming(r, 422, field)


async def test_a_text_body_on_a_json_route_is_415(client: httpx.AsyncClient, auth: Auth, incident_db: str) -> None:
    before = await row_counts(incident_db, incident)
    r = await client.post(
        "/api/v1/incidents",
        content=b'{"title": "Mail down", "caller": "bob", "impact": 2, "urgency": 2}',
        headers={**auth("agent"), "content-type": "text/plain"},
    )
    assert_problem_naming(r, 415, "header.content-type")
    assert await row_counts(incident_db, incident) == before
