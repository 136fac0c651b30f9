"""Input that cannot hurt the CMDB: deeply nested attributes, huge offsets, PATCH to null, a body
that is not UTF-8 and a body that is not JSON are 4xx problems naming the field, never a 500."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.config.app import create_app
from services.config.settings import ConfigSettings
from services.config.store.tables import config_item
from tests.conftest import running
from tests.infra import row_counts
from tests.problems import assert_problem_naming

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.fixture(scope="module")
async def config_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("config"))


@pytest.fixture
async def client(config_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ConfigSettings, config_db, run_worker=False))) as client:
        yield client


async def _ci(client: httpx.AsyncClient, auth: Auth) -> dict[str, Any]:
    body = {"name": f"db-{uuid.uuid4().hex[:8]}", "type": "server"}
    r = await client.post("/api/v1/cis", json=body, headers=auth("config_manager"))
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def test_attributes_nested_300_deep_are_refused_and_the_list_still_answers(
    client: httpx.AsyncClient, auth: Auth, config_db: str
) -> None:
    before = await row_counts(config_db, config_item)
    body = {"name": f"deep-{uuid.uuid4().hex[:8]}", "type": "server", "attributes": nested(300)}
    assert_problem_naming(
        await client.post("/api/v1/cis", json=body, headers=auth("config_manager")), 422, "attributes"
    )
    created = await _ci(client, auth)
    r = await client.patch(
        f"/api/v1/cis/{created['id']}",
        json={"attributes": nested(300)},
        headers={**auth("config_manager"), "If-Match": 'W/"1"'},
    )
    assert_problem_naming(r, 422, "attributes")
    assert await row_counts(config_db, config_item) == (before[0] + 1,)
    listed = await client.get("/api/v1/cis", params={"limit": 200}, headers=auth("auditor"))
    assert listed.status_code == 200, listed.text


async def test_nested_attributes_in_an_import_row_are_refused(client: httpx.AsyncClient, auth: Auth) -> None:
    rows = [{"name": f"imp-{uuid.uuid4().hex[:8]}", "type": "server", "attributes": nested(300)}]
    r = await client.post("/api/v1/import/cis", json=rows, headers=auth("config_manager"))
    assert_problem_naming(r, 422, "rows[0].attributes")


async def test_an_offset_past_64_bits_is_a_422_naming_it(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.get("/api/v1/cis", params={"offset": 2**63}, headers=auth("auditor"))
    assert_problem_naming(r, 422, "offset")


@pytest.mark.parametrize("field", ["name", "status", "criticality", "attributes", "description"])
async def test_a_patch_to_null_on_a_required_field_is_a_422_naming_it(
    client: httpx.AsyncClient, auth: Auth, field: str
) -> None:
    created = await _ci(client, auth)
    r = await client.patch(
        f"/api/v1/cis/{created['id']}", json={field: None}, headers={**auth("config_manager"), "If-Match": 'W/"1"'}
    )
    assert_problem_naming(r, 422, field)


@pytest.mark.parametrize("content_type", ["application/json", "text/csv"])
async def test_an_import_body_that_is_not_utf8_is_a_problem(
    client: httpx.AsyncClient, auth: Auth, content_type: str
) -> None:
    json_body, csv_body = b'[{"name": "caf\xe9", "type": "server"}]', b"name,type\ncaf\xe9,x\n"
    body = json_body if content_type == "application/json" else csv_body
    r = await client.post(
        "/api/v1/import/cis", content=body, headers={**auth("config_manager"), "content-type": content_type}
    )
    assert_problem_naming(r, 422, "body")


async def test_a_text_body_on_a_json_route_is_415(client: httpx.AsyncClient, auth: Auth, config_db: str) -> None:
    before = await row_counts(config_db, config_item)
    r = await client.post(
        "/api/v1/cis",
        content=b'{"name": "x", "type": "server"}',
        headers={**auth("config_manager"), "content-type": "text/plain"},
    )
    assert_problem_naming(r, 415, "header.content-type")
    assert await row_counts(config_db, config_item) == before
