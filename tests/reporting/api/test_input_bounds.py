"""Input that cannot hurt the reporting service: huge offsets and a body that is not JSON are 4xx
problems naming the field, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from tests.conftest import running
from tests.problems import assert_problem_naming

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def reporting_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("reporting"))


@pytest.fixture
async def client(reporting_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(ReportingSettings, reporting_db, run_worker=False))) as client:
        yield client


@pytest.mark.parametrize(
    "path", ["/api/v1/events", "/api/v1/report-runs", "/api/v1/reports/incident-volume/agreement/versions"]
)
async def test_an_offset_past_64_bits_is_a_422_naming_it(client: httpx.AsyncClient, auth: Auth, path: str) -> None:
    r = await client.get(path, params={"offset": 2**63}, headers=auth("auditor"))
    assert_problem_naming(r, 422, "offset")


async def test_a_text_body_on_a_json_route_is_415(client: httpx.AsyncClient, auth: Auth) -> None:
    r = await client.put(
        "/api/v1/reports/incident-volume/agreement",
        content=b'{"owner": "sam", "agreed_with": ["ops"]}',
        headers={**auth("service_level_manager"), "content-type": "text/plain"},
    )
    assert_problem_naming(r, 415, "header.content-type")


async def test_an_unknown_report_as_a_filter_is_a_422_naming_it(client: httpx.AsyncClient, auth: Auth) -> None:
    """A query parameter is input, not the address of a record: 404 is for a path that names none."""
    r = await client.get("/api/v1/report-runs", params={"report": "nope"}, headers=auth("auditor"))
    assert_problem_naming(r, 422, "report")
    assert "incidents" in r.json()["detail"]
