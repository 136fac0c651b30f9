"""Change governance over HTTP: the clause 5 design and transition gate, go-live acceptance, the
post-implementation review, maintenance windows and the conflict policy, the context fields on
change events, and bad input answered as problem+json with nothing stored."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.change.app import create_app
from services.change.settings import ChangeSettings
from services.change.store.tables import change, change_design, maintenance_window, outbox
from shared.events.change import ChangeClosed, ChangeCreated, ChangeFailed, ChangeImplemented, ChangeSubmitted
from tests.conftest import running
from tests.infra import Servers, create_service_database, outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
async def change_db(servers: Servers) -> str:
    return await create_service_database(servers, "change", label="governance")


@pytest.fixture
def app_with(change_db: str, make_settings: Callable[..., Any]) -> Callable[..., Any]:
    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        # Random CI and service ids here: the CI read model check has its own tests (integration).
        settings = make_settings(ChangeSettings, change_db, ci_check="off", **overrides)
        async with running(create_app(settings)) as client:
            yield client

    return start


@pytest.fixture
async def client(app_with: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with app_with() as client:
        yield client


async def _create(client: httpx.AsyncClient, auth: Auth, **body: Any) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=1)
    payload = {
        "title": "Retire the old payroll service",
        "justification": "replaced",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=2)).isoformat(),
        "backout_plan": "restore the snapshot",
        **body,
    }
    r = await client.post("/api/v1/changes", json=payload, headers=auth("requester", subject="rita"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _do(
    client: httpx.AsyncClient, item: dict[str, Any], action: str, body: Any = None, **kw: Any
) -> httpx.Response:
    subject = {"submit": "rita", "assess": "ann"}.get(action, "mike")  # whoever sets the risk does not approve alone
    headers = kw.get("headers") or kw["auth"]("requester" if action == "submit" else "change_manager", subject=subject)
    return await client.post(f"/api/v1/changes/{item['id']}/{action}", json=body, headers=headers)


DESIGN = {
    "requirements": "Payroll data is archived for 10 years, then the service is switched off",
    "acceptance_criteria": ["the archive opens in the records system", "no payroll job runs after the date"],
    "service_level_targets": [{"metric": "archive retrieval", "target": "within 2 working days"}],
    "capacity": "2 TB of archive storage",
}


async def test_a_service_removal_is_approved_only_with_its_design_record_and_closed_after_go_live(
    client: httpx.AsyncClient, auth: Auth, change_db: str
) -> None:
    item = await _create(client, auth, service_transition="service_removal")
    assert item["needs_design"] is True
    assert item["design_missing"] == ["requirements", "acceptance_criteria", "service_level_targets", "capacity"]
    mike = auth("change_manager", subject="mike")
    await _do(client, item, "submit", auth=auth)
    assessed = (await _do(client, item, "assess", {"risk": "low"}, auth=auth)).json()

    refused = await _do(client, item, "approve", auth=auth)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["missing"] == ["requirements", "acceptance_criteria", "service_level_targets", "capacity"]
    assert "design and transition" in refused.json()["detail"]
    after = (await client.get(f"/api/v1/changes/{item['id']}", headers=mike)).json()
    assert (after["status"], after["version"], after["votes"]) == ("assessed", assessed["version"], [])

    url = f"/api/v1/changes/{item['id']}/design"
    assert (await client.get(url, headers=mike)).status_code == 404
    partial = await client.put(url, json={**DESIGN, "capacity": "", "acceptance_criteria": []}, headers=mike)
    assert partial.status_code == 200, partial.text
    assert partial.json()["missing"] == ["acceptance_criteria", "capacity"]
    assert (await _do(client, item, "approve", auth=auth)).json()["missing"] == ["acceptance_criteria", "capacity"]
    assert (await client.put(url, json=DESIGN, headers=mike)).json()["missing"] == []
    shown = (await client.get(url, headers=auth("auditor"))).json()
    assert shown["service_level_targets"] == DESIGN["service_level_targets"]
    assert shown["updated_by"] == "mike" and shown["go_live"] is None

    assert (await _do(client, item, "approve", auth=auth)).json()["status"] == "approved"
    settled = await client.put(url, json=DESIGN, headers=mike)
    assert settled.status_code == 409
    for action in ("schedule", "start", "complete"):
        assert (await _do(client, item, action, auth=auth)).status_code == 200
    review = {"outcome": "switched off", "lessons": "archive earlier", "objectives_met": True}
    assert (await _do(client, item, "review", review, auth=auth)).status_code == 200

    not_yet = await _do(client, item, "close", auth=auth)
    assert not_yet.status_code == 409
    assert not_yet.json()["missing"] == ["go_live_acceptance"]
    unexplained = await _do(client, item, "go-live", {"accepted": False}, auth=auth)
    assert unexplained.status_code == 422
    assert unexplained.json()["errors"][0]["field"] == "comment"
    accepted = await _do(client, item, "go-live", {"accepted": True, "comment": "criteria met"}, auth=auth)
    assert accepted.status_code == 200, accepted.text
    assert (await client.get(url, headers=mike)).json()["go_live"]["accepted"] is True
    assert (await _do(client, item, "close", auth=auth)).json()["status"] == "closed"

    events = await outbox_events(change_db, outbox, item["id"])
    created = events[0].data_as(ChangeCreated)
    assert created.service_transition == "service_removal"
    assert events[-1].data_as(ChangeClosed).go_live_accepted is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**DESIGN, "service_level_targets": [{"metric": "availability"}]}, "service_level_targets.0.target"),
        ({**DESIGN, "service_level_targets": [{"metric": " ", "target": "x"}]}, "service_level_targets.0.metric"),
        ({**DESIGN, "acceptance_criteria": "one string"}, "acceptance_criteria"),
        ({**DESIGN, "capacity": "x" * 20_001}, "capacity"),
    ],
)
async def test_a_bad_design_record_is_a_422_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, auth: Auth, change_db: str, body: dict[str, Any], field: str
) -> None:
    item = await _create(client, auth, major=True)
    before = await row_counts(change_db, change_design)
    r = await client.put(f"/api/v1/changes/{item['id']}/design", json=body, headers=auth("change_manager"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await row_counts(change_db, change_design) == before
    assert (await client.get(f"/api/v1/changes/{item['id']}", headers=auth("auditor"))).json()["version"] == 1


async def test_a_standard_change_cannot_be_major(client: httpx.AsyncClient, auth: Auth, change_db: str) -> None:
    before = await row_counts(change_db, change, outbox)
    r = await client.post(
        "/api/v1/changes", json={"title": "x", "type": "standard", "major": True}, headers=auth("requester")
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "type"
    assert await row_counts(change_db, change, outbox) == before


async def test_an_emergency_change_is_reviewed_with_lessons_before_it_closes(
    client: httpx.AsyncClient, auth: Auth, change_db: str
) -> None:
    item = await _create(client, auth, type="emergency", justification="mail is down")
    for action, body in [("submit", None), ("assess", {"risk": "high"}), ("approve", None)]:
        assert (await _do(client, item, action, body, auth=auth)).status_code == 200
    for action in ("schedule", "start", "complete"):
        assert (await _do(client, item, action, auth=auth)).status_code == 200
    assert (await _do(client, item, "close", auth=auth)).status_code == 409  # reviewed first
    no_lessons = await _do(client, item, "review", {"outcome": "mail is back"}, auth=auth)
    assert no_lessons.status_code == 422
    assert no_lessons.json()["errors"][0]["field"] == "lessons"
    reviewed = (
        await _do(client, item, "review", {"outcome": "mail is back", "lessons": "monitor the queue"}, auth=auth)
    ).json()
    assert reviewed["review"]["lessons"] == "monitor the queue"
    assert reviewed["review"]["by"] == "mike" and reviewed["review"]["incident_ids"] == []
    assert (await _do(client, item, "close", auth=auth)).status_code == 200


async def test_change_events_carry_what_reporting_aggregates_by(
    client: httpx.AsyncClient, auth: Auth, change_db: str
) -> None:
    ci, service = uuid.uuid4(), uuid.uuid4()
    item = await _create(client, auth, affected_ci_ids=[str(ci)], service_ids=[str(service)])
    assert item["service_ids"] == [str(service)]
    for action, body in [("submit", None), ("assess", {"risk": "low"}), ("approve", None)]:
        await _do(client, item, action, body, auth=auth)
    for action in ("schedule", "start", "complete"):
        await _do(client, item, action, auth=auth)
    events = {e.type: e for e in await outbox_events(change_db, outbox, item["id"])}
    implemented = events["itsm.change.implemented.v1"].data_as(ChangeImplemented)
    assert implemented.type == "normal"
    assert implemented.created_at is not None and implemented.created_at.isoformat().startswith(item["created_at"][:19])
    assert (implemented.affected_ci_ids, implemented.service_ids) == ([ci], [service])
    submitted = events["itsm.change.submitted.v1"].data_as(ChangeSubmitted)
    assert submitted.created_at is not None and submitted.affected_ci_ids == [ci]
    assert submitted.service_ids == [service] and submitted.planned_start is not None

    failing = await _create(client, auth)
    for action, body in [("submit", None), ("assess", {"risk": "low"}), ("approve", None)]:
        await _do(client, failing, action, body, auth=auth)
    for action in ("schedule", "start"):
        await _do(client, failing, action, auth=auth)
    failed = (await _do(client, failing, "fail", {"notes": "fixed forward", "backed_out": False}, auth=auth)).json()
    assert failed["backed_out"] is False
    [event] = [e for e in await outbox_events(change_db, outbox, failing["id"]) if e.type.endswith("failed.v1")]
    assert event.data_as(ChangeFailed).backed_out is False


def _paris(days_ahead_to: int, hour: int) -> datetime:
    """The next given weekday (0 = Monday) at least a week ahead, at `hour` Paris time."""
    today = datetime.now(PARIS).date() + timedelta(days=7)
    day = today + timedelta(days=(days_ahead_to - today.weekday()) % 7)
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


async def test_maintenance_windows_are_kept_per_service_and_a_change_outside_them_conflicts(
    app_with: Callable[..., Any], client: httpx.AsyncClient, auth: Auth, change_db: str
) -> None:
    mike = auth("change_manager", subject="mike")
    payroll = str(uuid.uuid4())
    body = {
        "service_id": payroll,
        "name": "payroll nights",
        "time_zone": "Europe/Paris",
        "days": [6],
        "start": "02:00",
        "duration_minutes": 240,
    }
    created = await client.post("/api/v1/maintenance-windows", json=body, headers=mike)
    assert created.status_code == 201, created.text
    window = created.json()
    assert created.headers["location"].endswith(window["id"])
    wurl = f"/api/v1/maintenance-windows/{window['id']}"
    assert (await client.get(wurl, headers=auth("auditor"))).json() == window
    # what is served matches what the document declares (format `time` is RFC 3339, with an offset)
    declared = client_schema(await client.get("/openapi.json"), "MaintenanceWindowRead")["start"]
    assert declared.get("format") != "time", declared
    assert re.fullmatch(declared["pattern"], window["start"]), (declared, window["start"])
    assert all(re.fullmatch(declared["pattern"], example) for example in declared["examples"])
    listed = await client.get("/api/v1/maintenance-windows", params={"service_id": payroll}, headers=auth("auditor"))
    assert [w["id"] for w in listed.json()] == [window["id"]]
    replaced = await client.put(wurl, json={**body, "days": [2, 6]}, headers=mike)  # Wednesdays too
    assert replaced.json()["days"] == [2, 6]

    thursday = _paris(3, 2)
    outside = await _create(
        client,
        auth,
        service_ids=[payroll],
        backout_plan="",
        planned_start=thursday.isoformat(),
        planned_end=(thursday + timedelta(hours=1)).isoformat(),
    )
    conflicts = (await client.get(f"/api/v1/changes/{outside['id']}/conflicts", headers=mike)).json()
    assert [(c["kind"], c["severity"], c["other"]) for c in conflicts] == [
        ("outside_maintenance_window", "warning", payroll)
    ]
    await _do(client, outside, "submit", auth=auth)
    # Risk computed: no CI to ask config about; no back-out plan (15) and the conflict (10).
    assessed = (await _do(client, outside, "assess", {}, auth=auth)).json()
    assert "+15 no back-out plan" in assessed["risk_reasons"]
    assert f"+10 schedule conflict: outside maintenance window ({payroll})" in assessed["risk_reasons"]
    assert (assessed["risk"], assessed["risk_reasons"][-1]) == ("medium", "score 25")
    await _do(client, outside, "approve", auth=auth)

    async with app_with(conflict_maintenance_window="refuse") as strict:
        refused = await _do(strict, outside, "schedule", auth=auth)
        assert refused.status_code == 409
        assert "outside_maintenance_window" in refused.json()["detail"]
        assert "payroll nights" in refused.json()["detail"]
        wednesday = _paris(2, 3)
        inside = await _create(
            strict,
            auth,
            service_ids=[payroll],
            planned_start=wednesday.isoformat(),
            planned_end=(wednesday + timedelta(hours=1)).isoformat(),
        )
        for action, payload in [("submit", None), ("assess", {"risk": "low"}), ("approve", None), ("schedule", None)]:
            assert (await _do(strict, inside, action, payload, auth=auth)).status_code == 200, action
    assert (await _do(client, outside, "schedule", auth=auth)).status_code == 200  # the default policy warns

    assert (await client.delete(wurl, headers=mike)).status_code == 204
    assert (await client.get(wurl, headers=mike)).status_code == 404
    assert (await client.delete(wurl, headers=mike)).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"days": [7]}, "days"),
        ({"days": []}, "days"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"start": "25:00"}, "start"),
        ({"start": "02:00+01:00"}, "start"),  # local wall-clock time: the window's time_zone applies
        ({"service_id": "payroll"}, "service_id"),
    ],
)
async def test_a_bad_maintenance_window_is_a_422_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, auth: Auth, change_db: str, change: dict[str, Any], field: str
) -> None:
    body = {
        "service_id": str(uuid.uuid4()),
        "name": "w",
        "time_zone": "Europe/Paris",
        "days": [6],
        "start": "02:00",
        "duration_minutes": 60,
        **change,
    }
    before = await row_counts(change_db, maintenance_window)
    r = await client.post("/api/v1/maintenance-windows", json=body, headers=auth("change_manager"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await row_counts(change_db, maintenance_window) == before
    assert (await client.post("/api/v1/maintenance-windows", json=body, headers=auth("requester"))).status_code == 403


def client_schema(document: httpx.Response, name: str) -> dict[str, Any]:
    properties: dict[str, Any] = document.json()["components"]["schemas"][name]["properties"]
    return properties
