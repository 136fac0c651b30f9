"""An administrator importing history records when things happened (`X-ITSM-Occurred-At`, shared.clock):
the incident's times and its events' times are the given ones; nobody else may, and nonsense is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import outbox
from shared.clock import OCCURRED_AT_HEADER
from tests.conftest import running
from tests.infra import outbox_events

pytestmark = pytest.mark.asyncio(loop_scope="session")

BODY = {"title": "Printer jam", "caller": "c@example.com", "impact": 3, "urgency": 3}


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def client(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(IncidentSettings, incident_db, backdate_max_days=30))
    async with running(app) as client:
        yield client


def at(moment: datetime, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, OCCURRED_AT_HEADER: moment.isoformat()}


async def test_an_admin_records_an_incident_and_its_resolution_when_they_happened(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    admin = auth("admin", subject="importer")
    opened = (datetime.now(UTC) - timedelta(days=10)).replace(microsecond=0)
    r = await client.post("/api/v1/incidents", json=BODY, headers=at(opened, admin))
    assert r.status_code == 201, r.text
    incident = r.json()
    assert datetime.fromisoformat(incident["opened_at"]) == opened
    url = f"/api/v1/incidents/{incident['id']}"

    steps = [
        ("assign", {"assignment_group": "desk"}, opened + timedelta(minutes=5)),
        ("start", None, opened + timedelta(minutes=20)),
        ("resolve", {"resolution_code": "fixed"}, opened + timedelta(hours=3)),
    ]
    for action, body, moment in steps:
        r = await client.post(f"{url}/{action}", json=body, headers=at(moment, admin))
        assert r.status_code == 200, r.text
    resolved = r.json()
    assert datetime.fromisoformat(resolved["resolved_at"]) == opened + timedelta(hours=3)
    assert datetime.fromisoformat(resolved["first_response_at"]) == opened + timedelta(minutes=20)

    events = await outbox_events(incident_db, outbox, incident["id"])
    assert [e.time for e in events] == [opened, *(moment for _, _, moment in steps)]
    # A request without the header records the wall clock again (nothing leaks between requests).
    later = await client.post(f"{url}/close", headers=admin)
    assert datetime.fromisoformat(later.json()["closed_at"]) > datetime.now(UTC) - timedelta(minutes=1)


async def test_only_an_admin_may_and_only_sensible_times_are_taken(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    now = datetime.now(UTC)
    agent = await client.post("/api/v1/incidents", json=BODY, headers=at(now - timedelta(days=1), auth("agent")))
    assert agent.status_code == 403
    admin = auth("admin")
    refused = {
        "future": (now + timedelta(hours=1)).isoformat(),
        "too far back": (now - timedelta(days=31)).isoformat(),
        "no offset": (now - timedelta(days=1)).replace(tzinfo=None).isoformat(),
        "not a date": "last tuesday",
    }
    for why, value in refused.items():
        r = await client.post("/api/v1/incidents", json=BODY, headers={**admin, OCCURRED_AT_HEADER: value})
        assert r.status_code == 422, why
        assert r.json()["errors"][0]["field"] == f"header.{OCCURRED_AT_HEADER}"
    no_token = await client.post("/api/v1/incidents", json=BODY, headers={OCCURRED_AT_HEADER: now.isoformat()})
    assert no_token.status_code == 401


async def test_nothing_is_recorded_before_the_incident_was(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    admin = auth("admin")
    opened = datetime.now(UTC) - timedelta(days=2)
    incident = (await client.post("/api/v1/incidents", json=BODY, headers=at(opened, admin))).json()
    r = await client.post(
        f"/api/v1/incidents/{incident['id']}/assign",
        json={"assignment_group": "desk"},
        headers=at(opened - timedelta(hours=1), admin),
    )
    assert r.status_code == 422, r.text
    assert "nothing happens before that" in r.json()["detail"]
