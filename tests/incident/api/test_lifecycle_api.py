"""The incident lifecycle over HTTP: actions, 409 with the allowed actions, history, events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import incident_history, outbox
from tests.conftest import running
from tests.incident.cis import seed_ci
from tests.infra import outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def client(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(IncidentSettings, incident_db))) as client:
        yield client


async def test_an_incident_is_worked_resolved_and_closed_with_its_history_and_events(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    ann, bob = auth("agent", subject="ann"), auth("requester", subject="bob")
    created = (
        await client.post(
            "/api/v1/incidents", json={"title": "VPN down", "caller": "bob", "impact": 2, "urgency": 2}, headers=bob
        )
    ).json()
    url = f"/api/v1/incidents/{created['id']}"
    steps = [
        ("assign", {"assignment_group": "network", "assignee": "ann"}, "assigned"),
        ("start", None, "in_progress"),
        ("hold", {"reason": "awaiting_supplier", "note": "ticket 4711 at the ISP"}, "on_hold"),
        ("resume", None, "in_progress"),
        ("resolve", {"resolution_code": "fixed", "resolution_notes": "ISP fixed the route"}, "resolved"),
    ]
    for action, body, status in steps:
        r = await client.post(f"{url}/{action}", json=body, headers=ann)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == status
    closed = await client.post(f"{url}/close", headers={**bob, "If-Match": r.headers["etag"]})
    assert closed.status_code == 200
    assert closed.json()["allowed_actions"] == []
    assert closed.json()["closed_at"] is not None

    history = (await client.get(f"{url}/history", headers=auth("auditor"))).json()
    statuses = [(h["old"], h["new"]) for h in history if h["field"] == "status"]
    assert statuses == [
        ("new", "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "on_hold"),
        ("on_hold", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    hold = next(h for h in history if h["field"] == "hold_reason" and h["new"])
    assert (hold["actor"], hold["reason"]) == ("ann", "ticket 4711 at the ISP")
    types = [e.type for e in await outbox_events(incident_db, outbox, created["id"])]
    assert types == [
        "itsm.incident.created.v1",
        "itsm.incident.assigned.v1",
        "itsm.incident.status_changed.v1",
        "itsm.incident.status_changed.v1",
        "itsm.incident.status_changed.v1",
        "itsm.incident.resolved.v1",
        "itsm.incident.closed.v1",
    ]


async def test_a_refused_action_is_409_with_the_allowed_actions_and_stores_nothing(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    ann = auth("agent", subject="ann")
    created = (
        await client.post(
            "/api/v1/incidents", json={"title": "x", "caller": "c", "impact": 3, "urgency": 3}, headers=ann
        )
    ).json()
    # ann takes it first: an agent works what is assigned to them (else 404 before any check).
    mine = {"assignment_group": "desk", "assignee": "ann"}
    assert (await client.post(f"/api/v1/incidents/{created['id']}/assign", json=mine, headers=ann)).status_code == 200
    before = await row_counts(incident_db, incident_history, outbox)
    r = await client.post(f"/api/v1/incidents/{created['id']}/close", headers=ann)
    assert r.status_code == 409
    assert r.json()["allowed_actions"] == [
        "assign",
        "cancel",
        "declare_major",
        "escalate",
        "override_priority",
        "resolve",
        "start",
        "update",
    ]
    bad = await client.post(f"/api/v1/incidents/{created['id']}/hold", json={"reason": "lunch"}, headers=ann)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "reason"
    stale = await client.post(f"/api/v1/incidents/{created['id']}/start", headers={**ann, "If-Match": 'W/"9"'})
    assert stale.status_code == 412
    requester = await client.post(
        f"/api/v1/incidents/{created['id']}/assign", json={"assignment_group": "x"}, headers=auth("requester")
    )
    assert requester.status_code == 403
    assert await row_counts(incident_db, incident_history, outbox) == before


async def test_the_list_filters_by_group_assignee_ci_and_text(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    import uuid

    ann = auth("agent", subject="ann")
    tag, ci = uuid.uuid4().hex[:8], str(await seed_ci(incident_db))
    body = {"caller": "c", "impact": 3, "urgency": 3}
    first = (
        await client.post(
            "/api/v1/incidents", json={**body, "title": f"Printer {tag} jammed", "ci_id": ci}, headers=ann
        )
    ).json()
    second = (
        await client.post(
            "/api/v1/incidents", json={**body, "title": "other", "description": f"see {tag}_x"}, headers=ann
        )
    ).json()
    await client.post(
        f"/api/v1/incidents/{first['id']}/assign", json={"assignment_group": f"g{tag}", "assignee": "ann"}, headers=ann
    )

    async def ids(**params: Any) -> list[str]:
        page = (await client.get("/api/v1/incidents", params=params, headers=ann)).json()
        return [i["id"] for i in page["items"]]

    assert await ids(q=tag) == [second["id"], first["id"]]  # newest first
    assert await ids(q=f"{tag}_") == [second["id"]]  # `_` is a character, not a wildcard
    assert await ids(assignment_group=f"g{tag}") == [first["id"]]
    assert await ids(ci_id=ci) == [first["id"]]
    assert await ids(q=first["number"].lower()) == [first["id"]]
    assert first["id"] in await ids(assignee="ann", limit=200)
