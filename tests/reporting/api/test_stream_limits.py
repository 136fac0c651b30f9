"""The live stream's limits: one subject cannot take every slot of the process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from services.reporting.store.live import FEED
from tests.conftest import running

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def reporting_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("reporting"))


@pytest.fixture
async def client(reporting_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(ReportingSettings, reporting_db, run_worker=False, stream_max_per_subject=2)
    async with running(create_app(settings)) as client:
        yield client


async def test_a_subject_holding_its_share_of_streams_gets_429_naming_the_limit(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    # Two streams of "greedy" already open in this process (as the route opens them).
    held = [FEED.subscribe(max_readers=200, subject="greedy", max_per_subject=2) for _ in range(2)]
    try:
        refused = await client.get("/api/v1/stream", headers=auth("auditor", subject="greedy"))
    finally:
        for reader in held:
            FEED.unsubscribe(reader)

    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/too-many-streams")
    assert "greedy has 2 live streams open" in problem["detail"]
    assert problem["limit"] == 2
    assert FEED.readers == 0
