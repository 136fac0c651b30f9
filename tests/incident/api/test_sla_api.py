"""SLA calendars and policies over HTTP, and the clocks an incident's lifecycle moves (own database:
the policies apply to every incident in it)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import outbox, sla_calendar, sla_clock, sla_policy
from tests.conftest import running
from tests.infra import Servers, create_service_database, outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

CALENDARS, POLICIES = "/api/v1/sla/calendars", "/api/v1/sla/policies"
OFFICE = {
    "name": "office",
    "time_zone": "Europe/Berlin",
    "working_hours": {d: {"start": "09:00", "end": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-24", "2026-12-25"],
}


@pytest.fixture(scope="module")
async def sla_db(servers: Servers) -> str:
    return await create_service_database(servers, "incident", label="sla_api")


@pytest.fixture
async def client(sla_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    # no worker: the watcher must not run on its own here
    async with running(create_app(make_settings(IncidentSettings, sla_db, run_worker=False))) as client:
        yield client


@pytest.fixture
def manager(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("service_level_manager", subject="sue")


async def _calendar(client: httpx.AsyncClient, manager: dict[str, str], **changes: Any) -> dict[str, Any]:
    r = await client.post(CALENDARS, json={**OFFICE, "name": f"cal-{uuid.uuid4().hex[:8]}", **changes}, headers=manager)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _policy_body(calendar_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "name": "P3 standard",
        "service_id": str(uuid.uuid4()),
        "priority": 3,
        "response_target_s": 2 * 3600,
        "resolution_target_s": 8 * 3600,
        "calendar_id": calendar_id,
        **changes,
    }


async def test_a_calendar_is_created_read_replaced_and_deleted(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    created = await _calendar(client, manager)
    url = f"{CALENDARS}/{created['id']}"
    assert created["working_hours"]["mon"] == {"start": "09:00", "end": "17:00"}
    assert "sat" not in created["working_hours"]
    assert created["holidays"] == ["2026-12-24", "2026-12-25"]
    read = await client.get(url, headers=auth("auditor"))
    assert (read.status_code, read.headers["etag"]) == (200, 'W/"1"')
    body = {
        **OFFICE,
        "name": created["name"],
        "time_zone": "America/New_York",
        "working_hours": {"sat": {"start": "00:00", "end": "24:00"}},
    }
    replaced = await client.put(url, json=body, headers={**manager, "If-Match": 'W/"1"'})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["version"], replaced.json()["time_zone"]) == (2, "America/New_York")
    stale = await client.put(url, json=body, headers={**manager, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert created["name"] in [c["name"] for c in (await client.get(CALENDARS, headers=auth("agent"))).json()]
    assert (await client.delete(url, headers=manager)).status_code == 204
    assert (await client.get(url, headers=manager)).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"working_hours": {}}, "working_hours"),
        ({"working_hours": {"mon": {"start": "17:00", "end": "09:00"}}}, "working_hours"),
        ({"working_hours": {"mon": {"start": "9", "end": "17:00"}}}, "working_hours.mon.start"),
        ({"working_hours": {"funday": {"start": "09:00", "end": "17:00"}}}, "working_hours.funday.[key]"),
        ({"holidays": ["2026-02-30"]}, "holidays.0"),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_bad_calendar_is_a_422_problem_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, manager: dict[str, str], sla_db: str, changes: dict[str, Any], field: str
) -> None:
    before = await row_counts(sla_db, sla_calendar)
    r = await client.post(CALENDARS, json={**OFFICE, "name": "bad", **changes}, headers=manager)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert await row_counts(sla_db, sla_calendar) == before


async def test_calendar_names_are_unique_and_a_calendar_in_use_is_not_deleted(
    client: httpx.AsyncClient, manager: dict[str, str]
) -> None:
    calendar = await _calendar(client, manager)
    again = await client.post(CALENDARS, json={**OFFICE, "name": calendar["name"]}, headers=manager)
    assert again.status_code == 409
    r = await client.post(POLICIES, json=_policy_body(calendar["id"]), headers=manager)
    assert r.status_code == 201, r.text
    in_use = await client.delete(f"{CALENDARS}/{calendar['id']}", headers=manager)
    assert in_use.status_code == 409
    assert "policies use this calendar" in in_use.json()["detail"]


@pytest.mark.parametrize(("role", "status"), [("service_level_manager", 201), ("admin", 201), ("agent", 403)])
async def test_only_service_level_managers_and_admins_write_sla_settings(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], role: str, status: int
) -> None:
    r = await client.post(CALENDARS, json={**OFFICE, "name": f"c-{uuid.uuid4().hex[:8]}"}, headers=auth(role))
    assert r.status_code == status


async def test_a_policy_is_created_read_replaced_and_deleted(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    calendar = await _calendar(client, manager)
    body = _policy_body(
        calendar["id"],
        on_warning={"kind": "hierarchical", "notify": ["duty-manager"]},
        on_breach={"kind": "functional", "to_group": "l2-network"},
    )
    created = await client.post(POLICIES, json=body, headers=manager)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert (policy["warning_share"], policy["ticket_kind"], policy["version"]) == (0.75, "incident", 1)
    assert policy["on_breach"] == {"kind": "functional", "to_group": "l2-network", "notify": []}
    url = f"{POLICIES}/{policy['id']}"
    listed = await client.get(POLICIES, params={"service_id": body["service_id"]}, headers=auth("auditor"))
    assert [p["id"] for p in listed.json()] == [policy["id"]]
    replaced = await client.put(url, json={**body, "warning_share": 0.5}, headers={**manager, "If-Match": 'W/"1"'})
    assert (replaced.status_code, replaced.json()["warning_share"], replaced.json()["version"]) == (200, 0.5, 2)
    assert (await client.delete(url, headers={**manager, "If-Match": 'W/"1"'})).status_code == 412
    assert (await client.delete(url, headers=manager)).status_code == 204
    assert (await client.get(url, headers=manager)).status_code == 404


async def test_one_policy_per_kind_service_and_priority(client: httpx.AsyncClient, manager: dict[str, str]) -> None:
    calendar = await _calendar(client, manager)
    body = _policy_body(calendar["id"])
    assert (await client.post(POLICIES, json=body, headers=manager)).status_code == 201
    twin = await client.post(POLICIES, json={**body, "name": "twin"}, headers=manager)
    assert twin.status_code == 409
    for_requests = await client.post(POLICIES, json={**body, "ticket_kind": "request"}, headers=manager)
    assert for_requests.status_code == 201


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"priority": 0}, "priority"),
        ({"response_target_s": 0}, "response_target_s"),
        ({"response_target_s": 9 * 3600}, "response_target_s"),  # longer than the resolution target
        ({"warning_share": 1.0}, "warning_share"),
        ({"calendar_id": str(uuid.uuid4())}, "calendar_id"),
        ({"on_breach": {"kind": "functional"}}, "to_group"),
        ({"on_warning": {"kind": "hierarchical"}}, "notify"),
        ({"on_warning": {"kind": "sideways"}}, "on_warning.kind"),
        ({"ticket_kind": "problem"}, "ticket_kind"),
    ],
)
async def test_a_bad_policy_is_a_422_problem_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, manager: dict[str, str], sla_db: str, changes: dict[str, Any], field: str
) -> None:
    calendar = await _calendar(client, manager)
    before = await row_counts(sla_db, sla_policy)
    r = await client.post(POLICIES, json={**_policy_body(calendar["id"]), **changes}, headers=manager)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert await row_counts(sla_db, sla_policy) == before


async def test_the_incident_lifecycle_moves_its_clocks_and_the_resolved_event_reports_them(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Callable[..., dict[str, str]], sla_db: str
) -> None:
    calendar = await _calendar(
        client,
        manager,
        time_zone="UTC",
        working_hours={d: {"start": "00:00", "end": "24:00"} for d in OFFICE["working_hours"] | {"sat": 0, "sun": 0}},
    )
    body = _policy_body(calendar["id"], service_id=None, priority=2, name="default P2")
    r = await client.post(POLICIES, json=body, headers=manager)
    assert r.status_code == 201, r.text
    policy_id = r.json()["id"]
    agent = auth("agent", subject="ann", groups=("mail",))  # works the mail group's incidents
    created = await client.post(
        "/api/v1/incidents", json={"title": "mail down", "caller": "bob", "impact": 1, "urgency": 2}, headers=agent
    )
    assert created.json()["priority"] == 2
    url = f"/api/v1/incidents/{created.json()['id']}"
    clocks = {c["target"]: c for c in (await client.get(f"{url}/sla", headers=auth("auditor"))).json()}
    assert {t: c["state"] for t, c in clocks.items()} == {"response": "running", "resolution": "running"}
    opened = datetime.fromisoformat(created.json()["opened_at"])
    assert datetime.fromisoformat(clocks["response"]["due_at"]) == opened + timedelta(hours=2)
    assert datetime.fromisoformat(clocks["resolution"]["warn_at"]) == opened + timedelta(hours=6)

    for action, payload in [
        ("assign", {"assignment_group": "mail"}),
        ("start", None),
        ("hold", {"reason": "awaiting_caller"}),
    ]:
        assert (await client.post(f"{url}/{action}", json=payload, headers=agent)).status_code == 200
    clocks = {c["target"]: c for c in (await client.get(f"{url}/sla", headers=agent)).json()}
    assert {t: c["state"] for t, c in clocks.items()} == {"response": "stopped", "resolution": "paused"}
    assert clocks["response"]["met"] is True
    assert clocks["resolution"]["pauses"] == 1
    for action, payload in [("resume", None), ("resolve", {"resolution_code": "fixed"})]:
        assert (await client.post(f"{url}/{action}", json=payload, headers=agent)).status_code == 200
    clocks = {c["target"]: c for c in (await client.get(f"{url}/sla", headers=agent)).json()}
    assert clocks["resolution"]["state"] == "stopped"

    resolved = [e for e in await outbox_events(sla_db, outbox, created.json()["id"]) if e.type.endswith("resolved.v1")]
    results = {r["target"]: r for r in resolved[0].data["sla"]}
    assert set(results) == {"response", "resolution"}
    assert results["resolution"]["met"] is True
    assert results["resolution"]["policy_id"] == policy_id
    assert results["resolution"]["target_business_s"] == 8 * 3600
    assert 0 <= results["resolution"]["elapsed_business_s"] < 60
    assert results["resolution"]["due_at"] is not None

    reopened = await client.post(
        f"{url}/reopen", json={"reason": "still down"}, headers=auth("requester", subject="bob")
    )
    assert reopened.status_code == 200
    clocks = {c["target"]: c for c in (await client.get(f"{url}/sla", headers=agent)).json()}
    assert {t: c["state"] for t, c in clocks.items()} == {"response": "stopped", "resolution": "running"}


async def test_no_policy_no_clocks_and_an_unknown_incident_is_404(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], sla_db: str
) -> None:
    before = await row_counts(sla_db, sla_clock)
    created = await client.post(  # priority 5: no policy in this database
        "/api/v1/incidents", json={"title": "font", "caller": "bob", "impact": 3, "urgency": 3}, headers=auth("agent")
    )
    assert (await client.get(f"/api/v1/incidents/{created.json()['id']}/sla", headers=auth("agent"))).json() == []
    assert await row_counts(sla_db, sla_clock) == before
    assert (await client.get(f"/api/v1/incidents/{uuid.uuid4()}/sla", headers=auth("agent"))).status_code == 404


async def test_an_incident_opened_by_an_alert_gets_its_service_clocks(
    client: httpx.AsyncClient, manager: dict[str, str], auth: Callable[..., dict[str, str]], sla_db: str
) -> None:
    from tests.incident.api.test_alert_intake_api import alert, notification
    from tests.incident.cis import seed_ci

    service = uuid.uuid4()
    ci = str(await seed_ci(sla_db, service_id=service))
    calendar = await _calendar(client, manager)
    body = _policy_body(calendar["id"], service_id=str(service), priority=2, name="checkout P2")
    assert (await client.post(POLICIES, json=body, headers=manager)).status_code == 201
    fired = await client.post(
        "/api/v1/alerts/alertmanager",
        json=notification(alert("firing", uuid.uuid4().hex[:16], ci_id=ci, impact="1")),  # severity warning: P2
        headers=auth("monitoring", subject="alertmanager"),
    )
    assert fired.status_code == 200, fired.text
    [opened] = fired.json()["results"]
    clocks = (await client.get(f"/api/v1/incidents/{opened['incident_id']}/sla", headers=auth("auditor"))).json()
    assert {c["target"]: c["state"] for c in clocks} == {"response": "running", "resolution": "running"}
