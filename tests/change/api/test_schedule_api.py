"""The change schedule over HTTP: JSON with conflicts, iCalendar that a real parser reads, and a
blackout window that refuses scheduling."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from services.change.app import create_app
from services.change.settings import ChangeSettings
from tests.conftest import running

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def client(
    service_database: Callable[[str], Any], make_settings: Callable[..., Any]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(ChangeSettings, await service_database("change"))
    async with running(create_app(settings)) as client:
        yield client


async def approved_change(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], start: datetime, hours: float, cis: list[str]
) -> dict[str, Any]:
    rita, mike = auth("requester", subject="rita"), auth("change_manager", subject="mike")
    body = {
        "title": f"Work on {len(cis)} CI(s)",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=hours)).isoformat(),
        "affected_ci_ids": cis,
    }
    change = (await client.post("/api/v1/changes", json=body, headers=rita)).json()
    url = f"/api/v1/changes/{change['id']}"
    await client.post(f"{url}/submit", headers=rita)
    await client.post(f"{url}/assess", json={"risk": "low"}, headers=auth("change_manager", subject="ann"))
    result: dict[str, Any] = (await client.post(f"{url}/approve", headers=mike)).json()
    assert result["status"] == "approved"
    return result


async def test_the_schedule_shows_conflicts_and_exports_a_calendar(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    db = str(uuid.uuid4())
    start = datetime(2031, 3, 3, 22, tzinfo=UTC) + timedelta(minutes=uuid.uuid4().int % 10_000)
    first = await approved_change(client, auth, start, 2, [db])
    second = await approved_change(client, auth, start + timedelta(hours=1), 2, [db, str(uuid.uuid4())])
    window = {"from": (start - timedelta(hours=1)).isoformat(), "to": (start + timedelta(hours=4)).isoformat()}
    schedule = (await client.get("/api/v1/schedule", params=window, headers=auth("auditor"))).json()
    by_number = {e["change"]["number"]: e["conflicts"] for e in schedule["changes"]}
    assert by_number[first["number"]][0]["other"] == second["number"]
    assert by_number[first["number"]][0]["severity"] == "warning"
    assert by_number[second["number"]][0]["other"] == first["number"]

    ics = await client.get("/api/v1/schedule", params={**window, "format": "ics"}, headers=auth("auditor"))
    assert ics.headers["content-type"].startswith("text/calendar")
    events = list(Calendar.from_ical(ics.content).walk("VEVENT"))
    summaries = {str(e["SUMMARY"]).split()[0]: e for e in events}
    assert {first["number"], second["number"]} <= set(summaries)
    assert summaries[first["number"]].decoded("DTSTART") == start
    assert summaries[first["number"]].decoded("DTEND") == start + timedelta(hours=2)
    assert (
        await client.get(
            "/api/v1/schedule", params={"from": window["to"], "to": window["from"]}, headers=auth("auditor")
        )
    ).status_code == 422


async def test_a_blackout_window_refuses_scheduling_with_the_reason(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    web = str(uuid.uuid4())
    start = datetime(2032, 12, 24, 10, tzinfo=UTC) + timedelta(minutes=uuid.uuid4().int % 10_000)
    mike = auth("change_manager", subject="mike")
    freeze = {"name": "Christmas freeze", "start": start.isoformat(), "end": (start + timedelta(days=2)).isoformat()}
    r = await client.post("/api/v1/blackouts", json={**freeze, "ci_ids": [web]}, headers=mike)
    assert r.status_code == 201
    inside = await approved_change(client, auth, start + timedelta(hours=3), 1, [web])
    refused = await client.post(f"/api/v1/changes/{inside['id']}/schedule", headers=mike)
    assert refused.status_code == 409
    assert "Christmas freeze" in refused.json()["detail"]
    conflicts = (await client.get(f"/api/v1/changes/{inside['id']}/conflicts", headers=mike)).json()
    assert conflicts[0]["kind"] == "blackout"
    assert (await client.get(f"/api/v1/changes/{inside['id']}", headers=mike)).json()["status"] == "approved"
    elsewhere = await approved_change(client, auth, start + timedelta(hours=3), 1, [str(uuid.uuid4())])
    assert (await client.post(f"/api/v1/changes/{elsewhere['id']}/schedule", headers=mike)).status_code == 200
    bad = await client.post(
        "/api/v1/blackouts", json={**freeze, "end": (start - timedelta(hours=1)).isoformat()}, headers=mike
    )
    assert bad.status_code == 422


async def test_the_schedule_is_served_as_icalendar_when_accept_asks_for_it(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    start = datetime(2031, 5, 5, 22, tzinfo=UTC) + timedelta(minutes=uuid.uuid4().int % 10_000)
    change = await approved_change(client, auth, start, 2, [str(uuid.uuid4())])
    window = {"from": (start - timedelta(hours=1)).isoformat(), "to": (start + timedelta(hours=4)).isoformat()}
    ics = await client.get("/api/v1/schedule", params=window, headers={**auth("auditor"), "Accept": "text/calendar"})
    assert ics.status_code == 200, ics.text
    assert ics.headers["content-type"].startswith("text/calendar")
    assert change["number"] in {str(e["SUMMARY"]).split()[0] for e in Calendar.from_ical(ics.content).walk("VEVENT")}
    # q-values rank the types; */* and no Accept answer JSON; the query parameter wins over Accept
    ranked = {**auth("auditor"), "Accept": "application/json;q=0.5, text/calendar"}
    assert (
        (await client.get("/api/v1/schedule", params=window, headers=ranked))
        .headers["content-type"]
        .startswith("text/calendar")
    )
    for accept in ("*/*", "application/json", "text/calendar;q=0.2, application/json"):
        r = await client.get("/api/v1/schedule", params=window, headers={**auth("auditor"), "Accept": accept})
        assert r.headers["content-type"].startswith("application/json"), accept
    r = await client.get(
        "/api/v1/schedule", params={**window, "format": "json"}, headers={**auth("auditor"), "Accept": "text/calendar"}
    )
    assert r.headers["content-type"].startswith("application/json")


async def test_a_method_the_path_does_not_take_answers_405_with_allow(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    r = await client.put("/api/v1/blackouts", json={}, headers=auth("change_manager"))
    assert r.status_code == 405
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "POST"}
    one = await client.delete("/api/v1/schedule", headers=auth("auditor"))
    assert (one.status_code, one.headers["allow"]) == (405, "GET")
