"""Input that cannot hurt the change service: huge offsets, PATCH to null on a template and a
body that is not JSON are 4xx problems naming the field, never a 500."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.change.app import create_app
from services.change.settings import ChangeSettings
from services.change.store.tables import change
from tests.conftest import running
from tests.infra import row_counts
from tests.problems import assert_problem_naming

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def change_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("change"))


@pytest.fixture
async def client(change_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ChangeSettings, change_db, run_worker=False))) as client:
        yield client


@pytest.mark.parametrize("path", ["/api/v1/changes", "/api/v1/releases", "/api/v1/deployments"])
async def test_an_offset_past_64_bits_is_a_422_naming_it(client: httpx.AsyncClient, auth: Auth, path: str) -> None:
    r = await client.get(path, params={"offset": 2**63}, headers=auth("auditor"))
    assert_problem_naming(r, 422, "offset")


@pytest.mark.parametrize("field", ["description", "test_plan"])
async def test_a_template_patch_to_null_is_a_422_naming_the_field(
    client: httpx.AsyncClient, auth: Auth, field: str
) -> None:
    manager = auth("change_manager")
    body = {
        "name": f"Rotate certificates {uuid.uuid4().hex[:8]}",
        "implementation_plan": "Rotate them",
        "backout_plan": "Put the old ones back",
    }
    created = await client.post("/api/v1/templates", json=body, headers=manager)
    assert created.status_code == 201, created.text
    r = await client.patch(
        f"/api/v1/templates/{created.json()['id']}", json={field: None}, headers={**manager, "If-Match": 'W/"1"'}
    )
    assert_problem_naming(r, 422, field)


async def test_a_text_body_on_a_json_route_is_415(client: httpx.AsyncClient, auth: Auth, change_db: str) -> None:
    before = await row_counts(change_db, change)
    r = await client.post(
        "/api/v1/changes",
        content=b'{"title": "Patch db01", "type": "normal"}',
        headers={**auth("change_manager"), "content-type": "text/plain"},
    )
    assert_problem_naming(r, 415, "header.content-type")
    assert await row_counts(change_db, change) == before


async def test_an_unknown_template_named_in_the_body_is_a_422_naming_it(
    client: httpx.AsyncClient, auth: Auth, change_db: str
) -> None:
    """404 is for a path that names no record; a body naming one is invalid input (found by fuzzing)."""
    before = await row_counts(change_db, change)
    body = {"title": "From a template", "template_id": str(uuid.uuid4())}
    r = await client.post("/api/v1/changes", json=body, headers=auth("change_manager"))
    assert_problem_naming(r, 422, "template_id")
    assert await row_counts(change_db, change) == before
    r = await client.post(f"/api/v1/templates/{uuid.uuid4()}/changes", json={}, headers=auth("change_manager"))
    assert r.status_code == 404, r.text
