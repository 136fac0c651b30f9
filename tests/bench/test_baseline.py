"""The throughput bench's baseline does the I/O of the suite's create, and nothing less: the same
rows in the same tables (the same columns filled), the same event, the same answer (fields,
values, headers). Both run here on databases migrated with the incident service's migrations;
when the suite's create grows (a column, a response field, a row in another table) and the
baseline does not, this fails, instead of the bench at its next run."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from bench import baseline_app
from bench.infra import asyncpg_dsn
from bench.wrk import INCIDENT_BODY
from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from tests.conftest import running
from tests.infra import Servers, create_service_database

pytestmark = pytest.mark.asyncio(loop_scope="session")

PATH = "/api/v1/incidents"
# Drawn or stamped per request: compared by presence, not value.
VOLATILE = {"id", "number", "opened_at", "updated_at", "incident_id", "time", "subject"}


async def _table_rows(database_url: str) -> dict[str, list[dict[str, Any]]]:
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        tables = [r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {t: [dict(r) for r in await conn.fetch(f'SELECT * FROM "{t}"')] for t in tables}
    finally:
        await conn.close()


async def _create(client: httpx.AsyncClient, database_url: str, headers: dict[str, str]) -> dict[str, Any]:
    """POST one incident (the bench's body); the answer and the rows it added, table by table."""
    before = await _table_rows(database_url)
    r = await client.post(PATH, content=INCIDENT_BODY, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    after = await _table_rows(database_url)
    added = {t: rows[len(before[t]) :] for t, rows in after.items() if len(rows) != len(before[t])}
    return {"answer": r.json(), "headers": {k for k in r.headers if k in ("location", "etag")}, "added": added}


def _stable(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k not in VOLATILE}


def _event(outbox_row: dict[str, Any]) -> dict[str, Any]:
    payload = json.loads(outbox_row["payload"])
    return {**_stable(payload), "id": "<event id>", "data": _stable(payload["data"])}


@pytest.fixture(scope="module")
async def suite_create(
    servers: Servers, make_settings: Callable[..., Any], auth: Callable[..., dict[str, str]]
) -> dict[str, Any]:
    url = await create_service_database(servers, "incident", label="bench_suite")
    async with running(create_app(make_settings(IncidentSettings, url, run_worker=False))) as client:
        return await _create(client, url, auth("agent", subject="bench"))


@pytest.mark.parametrize("kind", ["fastapi", "bare"])
async def test_the_baseline_writes_and_answers_what_the_suite_does(
    kind: str, servers: Servers, suite_create: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await create_service_database(servers, "incident", label=f"bench_baseline_{kind}")
    monkeypatch.setenv("BENCH_BASELINE_DATABASE_URL", asyncpg_dsn(url))
    monkeypatch.setenv("BENCH_BASELINE_KIND", kind)
    monkeypatch.setenv("BENCH_BASELINE_POOL_SIZE", "2")
    async with LifespanManager(baseline_app.create_app()) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://baseline") as client:
            baseline = await _create(client, url, {})
    suite = suite_create

    # The same tables get the same number of rows.
    assert {t: len(r) for t, r in baseline["added"].items()} == {t: len(r) for t, r in suite["added"].items()}
    # The incident row: the same columns, holding the same values.
    [suite_row], [baseline_row] = suite["added"]["incident"], baseline["added"]["incident"]
    assert _stable(baseline_row) == _stable(suite_row)
    assert baseline_row["opened_at"] == baseline_row["updated_at"]
    # The outbox row: the same event (type, routing, subject, every field of the CloudEvent).
    [suite_out], [baseline_out] = suite["added"]["outbox"], baseline["added"]["outbox"]
    for column in ("event_type", "routing_key"):
        assert baseline_out[column] == suite_out[column]
    assert baseline_out["subject"] == str(baseline_row["id"])
    assert _event(baseline_out) == _event(suite_out)
    # The answer: the same fields and values, and the same headers.
    assert sorted(baseline["answer"]) == sorted(suite["answer"])
    assert _stable(baseline["answer"]) == _stable(suite["answer"])
    assert baseline["answer"]["id"] == str(baseline_row["id"])
    assert baseline["headers"] == suite["headers"] == {"location", "etag"}
