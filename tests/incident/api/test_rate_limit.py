"""The per-subject write rate limit (shared, the same in every service), seen through incident."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from tests.conftest import running

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/incidents"
BODY = {"title": "Printer jam", "caller": "bob", "impact": 3, "urgency": 3}


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def client(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(IncidentSettings, incident_db, write_rate_per_minute=6, write_burst=2)
    async with running(create_app(settings)) as c:
        yield c


async def test_writes_over_the_burst_answer_429_with_retry_after(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    agent = auth("agent", subject="rate-limited-agent")
    started = time.monotonic()
    for _ in range(2):
        assert (await client.post(URL, json=BODY, headers=agent)).status_code == 201
    before = (await client.get(URL, params={"limit": 1}, headers=agent)).json()["total"]

    refused = await client.post(URL, json=BODY, headers=agent)
    elapsed = time.monotonic() - started

    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    # 6 a minute: the next token is 10 s after the first write, less the time these requests took
    # (a slow machine may take over a second), rounded up to whole seconds.
    retry_after = int(refused.headers["Retry-After"])
    assert math.ceil(10 - elapsed) <= retry_after <= 10
    problem = refused.json()
    assert problem["status"] == 429
    assert problem["retry_after"] == retry_after
    assert "6 writes a minute" in problem["detail"]
    # Nothing was written, reads are not limited, and another subject has a bucket of its own.
    assert (await client.get(URL, params={"limit": 1}, headers=agent)).json()["total"] == before
    other = auth("agent", subject="another-agent")
    assert (await client.post(URL, json=BODY, headers=other)).status_code == 201
