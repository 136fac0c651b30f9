"""`/readyz` carries the outbox backlog (a count, no records): `itsm status` shows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from services.incident.app import SPEC, create_app
from services.incident.settings import IncidentSettings
from shared.db import create_engine
from shared.outbox import pending_count
from tests.conftest import running
from tests.infra import Servers, create_service_database

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_readiness_counts_the_events_not_published_yet(
    servers: Servers, make_settings: Callable[..., Any], auth: Callable[..., dict[str, str]]
) -> None:
    database_url = await create_service_database(servers, "incident", label="backlog")
    settings = make_settings(IncidentSettings, database_url, run_worker=False)  # no relay: events wait
    async with running(create_app(settings)) as client:
        assert (await client.get("/readyz")).json()["outbox_backlog"] == 0
        for title in ("one", "two"):
            body = {"title": title, "caller": "c", "impact": 3, "urgency": 3}
            assert (await client.post("/api/v1/incidents", json=body, headers=auth("agent"))).status_code == 201

        ready = (await client.get("/readyz")).json()

    engine = create_engine(database_url)
    try:
        waiting = await pending_count(engine, SPEC.outbox)
    finally:
        await engine.dispose()
    assert waiting >= 2
    assert ready["outbox_backlog"] == waiting
    assert set(ready) == {"status", "checks", "outbox_backlog"}
