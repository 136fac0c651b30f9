"""The incident record over HTTP: CI check and defaults, edits with If-Match, priority override,
escalation, major incidents and their review, notes and the timeline, search filters."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import incident, incident_history, incident_note, outbox
from tests.conftest import running
from tests.incident.cis import seed_ci
from tests.infra import outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/incidents"


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def client(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(IncidentSettings, incident_db, priority_matrix=[[1, 1, 2], [2, 3, 4], [3, 4, 5]])
    async with running(create_app(settings)) as client:
        yield client


async def _open(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.post(URL, json={"title": "Payroll slow", "caller": "bob", "urgency": 2, **body}, headers=headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def _types(incident_db: str, incident_id: str) -> list[str]:
    return [e.routing_key for e in await outbox_events(incident_db, outbox, incident_id)]


async def test_an_incident_on_a_ci_takes_its_impact_and_service_and_the_event_says_so(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    service = uuid.uuid4()
    ci_id = await seed_ci(incident_db, criticality=1, service_id=service)
    created = await _open(
        client, auth("agent"), ci_id=str(ci_id), category="software", subcategory="payroll", channel="phone"
    )
    assert (created["impact"], created["urgency"], created["priority"]) == (1, 2, 1)  # configured matrix: 1x2 -> 1
    assert created["service_id"] == str(service)
    assert (created["category"], created["subcategory"], created["channel"]) == ("software", "payroll", "phone")
    [event] = await outbox_events(incident_db, outbox, created["id"])
    assert event.data["service_id"] == str(service) and event.data["category"] == "software"
    assert event.data["channel"] == "phone" and event.data["ci_id"] == str(ci_id)


@pytest.mark.parametrize("status", ["retired", None], ids=["retired", "unknown"])
async def test_an_incident_on_a_retired_or_unknown_ci_is_a_422_naming_ci_id_and_stores_nothing(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str, status: str | None
) -> None:
    ci_id = await seed_ci(incident_db, status=status) if status else uuid.uuid4()
    before = await row_counts(incident_db, incident, outbox)
    r = await client.post(
        URL, json={"title": "x", "caller": "c", "urgency": 1, "ci_id": str(ci_id)}, headers=auth("agent")
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    [error] = r.json()["errors"]
    assert error["field"] == "ci_id" and ("retired" in error["reason"] if status else "unknown" in error["reason"])
    assert await row_counts(incident_db, incident, outbox) == before


async def test_patch_needs_if_match_and_a_new_impact_recomputes_the_priority(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    ann = auth("agent", subject="ann")
    created = await _open(client, ann, impact=3)  # 3 x 2 -> 4
    url = f"{URL}/{created['id']}"
    body = {"impact": 1, "category": "network", "reason": "whole floor affected"}
    missing = await client.patch(url, json=body, headers=ann)
    assert missing.status_code == 428
    stale = await client.patch(url, json=body, headers={**ann, "If-Match": 'W/"7"'})
    assert stale.status_code == 412
    r = await client.patch(url, json=body, headers={**ann, "If-Match": 'W/"1"'})
    assert r.status_code == 200, r.text
    assert (r.json()["impact"], r.json()["priority"], r.json()["category"]) == (1, 1, "network")
    assert r.headers["etag"] == 'W/"2"'
    events = await outbox_events(incident_db, outbox, created["id"])
    assert [e.routing_key for e in events] == ["incident.created.v1", "incident.priority_changed.v1"]
    assert events[1].data["previous_priority"] == 4 and events[1].data["priority"] == 1
    assert events[1].data["override"] is False
    history = (await client.get(f"{url}/history", headers=ann)).json()
    assert {h["field"]: (h["old"], h["new"], h["reason"]) for h in history} == {
        "impact": (3, 1, "whole floor affected"),
        "priority": (4, 1, "whole floor affected"),
        "category": (None, "network", "whole floor affected"),
    }
    # A correction of the wording alone publishes nothing (it is in the history).
    r = await client.patch(url, json={"title": "Payroll down"}, headers={**ann, "If-Match": r.headers["etag"]})
    assert r.status_code == 200 and r.json()["title"] == "Payroll down"
    assert len(await _types(incident_db, created["id"])) == 2


async def test_an_agent_overrides_the_priority_with_a_reason(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    ann = auth("agent", subject="ann")
    created = await _open(client, ann, impact=3)
    r = await client.post(f"{URL}/{created['id']}/priority", json={"priority": 2, "reason": "VIP"}, headers=ann)
    assert r.status_code == 200, r.text
    assert (r.json()["priority"], r.json()["priority_override_reason"]) == (2, "VIP")
    event = (await outbox_events(incident_db, outbox, created["id"]))[-1]
    assert event.routing_key == "incident.priority_changed.v1"
    assert (event.data["override"], event.data["previous_priority"], event.data["reason"]) == (True, 4, "VIP")
    requester = await client.post(
        f"{URL}/{created['id']}/priority", json={"priority": 1, "reason": "me"}, headers=auth("requester")
    )
    assert requester.status_code == 403


async def test_escalations_functional_and_hierarchical_publish_what_happened(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    ann = auth("agent", subject="ann")
    created = await _open(client, ann, impact=2)
    url = f"{URL}/{created['id']}"
    await client.post(f"{url}/assign", json={"assignment_group": "desk", "assignee": "ann"}, headers=ann)
    r = await client.post(f"{url}/escalate", json={"kind": "functional", "to_group": "network-l2"}, headers=ann)
    assert r.status_code == 200, r.text
    assert (r.json()["assignment_group"], r.json()["assignee"], r.json()["status"]) == ("network-l2", None, "assigned")
    r = await client.post(f"{url}/escalate", json={"kind": "hierarchical", "notify": ["duty-manager"]}, headers=ann)
    assert r.status_code == 200
    escalations = [
        e.data
        for e in await outbox_events(incident_db, outbox, created["id"])
        if e.routing_key == "incident.escalated.v1"
    ]
    assert [(e["kind"], e["trigger"], e["from_group"], e["to_group"], e["notified"]) for e in escalations] == [
        ("functional", "manual", "desk", "network-l2", []),
        ("hierarchical", "manual", "network-l2", None, ["duty-manager"]),
    ]


async def test_a_major_incident_is_declared_by_an_incident_manager_and_closes_only_after_its_review(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    ann, mia, bob = (
        auth("agent", subject="ann"),
        auth("incident_manager", subject="mia"),
        auth("requester", subject="bob"),
    )
    created = await _open(client, ann, impact=1)
    url = f"{URL}/{created['id']}"
    assert (await client.post(f"{url}/major", json={"manager": "mia"}, headers=ann)).status_code == 403
    r = await client.post(f"{url}/major", json={"manager": "mia", "reason": "all payroll users"}, headers=mia)
    assert r.status_code == 200, r.text
    assert (r.json()["major"], r.json()["major_manager"]) == (True, "mia")
    declared = (await outbox_events(incident_db, outbox, created["id"]))[-1]
    assert declared.routing_key == "incident.major_declared.v1"
    assert (declared.data["manager"], declared.data["major"]) == ("mia", True)

    update = await client.post(f"{url}/major/updates", json={"text": "bridge open, vendor engaged"}, headers=mia)
    assert update.status_code == 201 and update.json()["kind"] == "major_update"
    # ann takes it to resolve it: an agent works what is assigned to them.
    await client.post(f"{url}/assign", json={"assignment_group": "desk", "assignee": "ann"}, headers=ann)
    resolved = await client.post(f"{url}/resolve", json={"resolution_code": "fixed"}, headers=ann)
    assert resolved.status_code == 200, resolved.text
    before = await row_counts(incident_db, incident_history, outbox)
    refused = await client.post(f"{url}/close", headers=bob)
    assert refused.status_code == 409
    assert refused.json()["missing"] == ["review"] and "review" in refused.json()["detail"]
    assert "close" not in refused.json()["allowed_actions"]
    assert await row_counts(incident_db, incident_history, outbox) == before
    assert (await client.get(f"{url}/review", headers=ann)).status_code == 404

    review = {
        "summary": "payroll down 2 h",
        "root_cause": "expired TLS certificate",
        "lessons": "certificates had no owner",
        "actions": ["alert 30 days before expiry", "owner per certificate"],
    }
    r = await client.put(f"{url}/review", json=review, headers=mia)
    assert r.status_code == 200, r.text
    assert r.json()["recorded_by"] == "mia" and r.json()["actions"] == review["actions"]
    assert (await client.get(f"{url}/review", headers=auth("auditor"))).json()["root_cause"] == review["root_cause"]
    closed = await client.post(f"{url}/close", headers=bob)
    assert closed.status_code == 200 and closed.json()["closed_by"] == "caller_confirmed"
    timeline = (await client.get(f"{url}/timeline", headers=bob)).json()
    assert "bridge open, vendor engaged" in [e["text"] for e in timeline]


async def test_the_timeline_merges_notes_and_history_and_a_requester_sees_only_what_is_for_them(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    ann, bob = auth("agent", subject="ann"), auth("requester", subject="bob")
    created = await _open(client, bob, impact=3)
    url = f"{URL}/{created['id']}"
    steps: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        ("notes", {"text": "router logs point at the ISP", "visibility": "internal"}, ann),
        ("assign", {"assignment_group": "network", "assignee": "ann"}, ann),
        ("notes", {"text": "we are on it", "visibility": "customer"}, ann),
        ("notes", {"text": "thanks, still slow", "visibility": "customer"}, bob),
    ]
    for path, body, who in steps:
        r = await client.post(f"{url}/{path}", json=body, headers=who)
        assert r.status_code in (200, 201), r.text
    assert r.json()["author"] == "bob"

    everything = (await client.get(f"{url}/timeline", headers=ann)).json()
    assert [(e["entry"], e["kind"], e.get("text") or e["field"]) for e in everything] == [
        ("note", "work_note", "router logs point at the ISP"),
        ("change", "assign", "status"),
        ("change", "assign", "assignment_group"),
        ("change", "assign", "assignee"),
        ("note", "comment", "we are on it"),
        ("note", "comment", "thanks, still slow"),
    ]
    for_bob = (await client.get(f"{url}/timeline", headers=bob)).json()
    assert [(e["kind"], e.get("text") or e["new"]) for e in for_bob] == [
        ("assign", "assigned"),
        ("comment", "we are on it"),
        ("comment", "thanks, still slow"),
    ]
    assert all(e["visibility"] == "customer" for e in for_bob)

    before = await row_counts(incident_db, incident_note)
    work_note = await client.post(f"{url}/notes", json={"text": "psst", "visibility": "internal"}, headers=bob)
    assert work_note.status_code == 403
    assert await row_counts(incident_db, incident_note) == before


async def test_the_list_filters_by_service_category_and_major_with_a_stable_order(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    ann = auth("agent")
    service, category = uuid.uuid4(), f"cat-{uuid.uuid4().hex[:6]}"
    ids = [(await _open(client, ann, impact=2, service_id=str(service), category=category))["id"] for _ in range(5)]
    other = await _open(client, ann, impact=2, service_id=str(service), category="other")

    async def listed(**params: Any) -> list[str]:
        r = await client.get(URL, params=params, headers=ann)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert await listed(service_id=str(service), category=category) == ids[::-1]
    assert set(await listed(service_id=str(service))) == {*ids, other["id"]}
    pages = [await listed(category=category, limit=2, offset=o) for o in (0, 2, 4)]
    assert [i for page in pages for i in page] == ids[::-1]  # pages neither repeat nor skip
    assert other["id"] not in await listed(major=True, service_id=str(service))


async def test_a_large_match_is_counted_up_to_the_configured_limit(
    incident_db: str, make_settings: Callable[..., Any], auth: Callable[..., dict[str, str]]
) -> None:
    settings = make_settings(IncidentSettings, incident_db, list_count_limit=3)
    ann, category = auth("agent"), f"cat-{uuid.uuid4().hex[:6]}"
    async with running(create_app(settings)) as client:
        for _ in range(4):
            await _open(client, ann, impact=2, category=category)
        many = (await client.get(URL, params={"category": category, "limit": 2}, headers=ann)).json()
        assert (many["total"], many["total_exact"], len(many["items"])) == (3, False, 2)
        few = (await client.get(URL, params={"category": category, "limit": 1, "offset": 3}, headers=ann)).json()
        assert len(few["items"]) == 1  # the page itself is not limited by the count
        one = await _open(client, ann, impact=2, category=f"{category}-x")
        exact = (await client.get(URL, params={"category": f"{category}-x"}, headers=ann)).json()
        assert (exact["total"], exact["total_exact"], [i["id"] for i in exact["items"]]) == (1, True, [one["id"]])


async def test_a_text_search_counts_its_matches_on_every_page(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    ann, tag = auth("agent"), uuid.uuid4().hex[:10]
    ids = [(await _open(client, ann, impact=3, description=f"error {tag} again"))["id"] for _ in range(3)]

    async def listed(**params: Any) -> dict[str, Any]:
        body: dict[str, Any] = (await client.get(URL, params={"q": tag, **params}, headers=ann)).json()
        return body

    first, last, beyond = await listed(limit=2), await listed(limit=2, offset=2), await listed(limit=2, offset=5)
    assert ([i["id"] for i in first["items"]], first["total"]) == (ids[:0:-1], 3)
    assert ([i["id"] for i in last["items"]], last["total"]) == ([ids[0]], 3)
    assert (beyond["items"], beyond["total"], beyond["total_exact"]) == ([], 3, True)
