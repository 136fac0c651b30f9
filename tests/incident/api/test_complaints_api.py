"""Service complaints over HTTP (ISO/IEC 20000-1 7.1): the whole lifecycle with its events in the
outbox and its field history, the acknowledge and respond targets with a breach shown, escalation
to the relationship manager, links checked against what the service knows, a requester's own
complaints, 409 with the allowed actions, and bad input answered 422 and stored nowhere."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.complaints import complaint, complaint_history, complaint_link
from services.incident.store.tables import outbox
from services.incident.worker import HANDLERS
from shared.clock import OCCURRED_AT_HEADER
from shared.db import create_engine
from shared.events import new_event
from shared.events.change import ChangeCreated
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.infra import Servers, create_service_database, outbox_events, row_counts
from tests.problems import assert_problem_naming

pytestmark = pytest.mark.asyncio(loop_scope="session")

COMPLAINTS = "/api/v1/complaints"
TABLES = (complaint, complaint_history, complaint_link, outbox)


@pytest.fixture(scope="module")
async def complaints_db(servers: Servers) -> str:
    return await create_service_database(servers, "incident", label="complaints_api")


@pytest.fixture
async def client(complaints_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        IncidentSettings, complaints_db, run_worker=False, complaint_acknowledge_hours=4, complaint_respond_hours=48
    )
    async with running(create_app(settings)) as client:
        yield client


@pytest.fixture
def agent(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth("agent", subject="ann")


async def _receive(client: httpx.AsyncClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    body = {"title": "Nobody called me back", "complainant": "alice", "relationship_manager": "rita", **changes}
    r = await client.post(COMPLAINTS, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _post(
    client: httpx.AsyncClient, complaint: dict[str, Any], action: str, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    r = await client.post(f"{COMPLAINTS}/{complaint['id']}/{action}", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_complaint_goes_from_received_to_closed_with_an_event_and_history_for_each_step(
    client: httpx.AsyncClient, complaints_db: str, agent: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    received = await _receive(client, agent, received_via="phone", category="timeliness")
    assert received["number"].startswith("CMP") and len(received["number"]) == 10
    assert (received["status"], received["complainant"], received["recorded_by"]) == ("received", "alice", "ann")
    at = datetime.fromisoformat(received["received_at"])
    assert datetime.fromisoformat(received["acknowledge_due_at"]) == at + timedelta(hours=4)
    assert datetime.fromisoformat(received["respond_due_at"]) == at + timedelta(hours=48)
    assert (received["acknowledge_breached"], received["respond_breached"]) == (False, False)
    assert received["allowed_actions"] == ["acknowledge", "link", "update"]
    url = f"{COMPLAINTS}/{received['id']}"
    got = await client.get(url, headers=auth("auditor"))
    assert (got.status_code, got.headers["etag"], got.json()["number"]) == (200, 'W/"1"', received["number"])

    acknowledged = await _post(client, received, "acknowledge", agent)
    assert (acknowledged["status"], acknowledged["owner"], acknowledged["acknowledged_at"] is not None) == (
        "acknowledged",
        "ann",
        True,
    )
    await _post(client, received, "investigate", agent, notes="the call-back queue was unwatched")
    await _post(client, received, "take-action", agent, actions_taken="called back, new rota")
    resolved = await _post(client, received, "resolve", agent, resolution="we now call back within a day")
    assert (resolved["status"], resolved["responded_at"] is not None) == ("resolved_pending_confirmation", True)
    closed = await _post(client, received, "confirm", auth("requester", subject="alice"), comment="thanks")
    assert (closed["status"], closed["closure_confirmed_by_customer"], closed["closure_reason"]) == (
        "closed",
        True,
        "thanks",
    )
    assert (closed["version"], closed["allowed_actions"]) == (6, ["reopen"])

    types = [e.type for e in await outbox_events(complaints_db, outbox, received["id"])]
    assert types == [
        "itsm.complaint.received.v1",
        "itsm.complaint.acknowledged.v1",
        "itsm.complaint.investigation_started.v1",
        "itsm.complaint.action_taken.v1",
        "itsm.complaint.resolved.v1",
        "itsm.complaint.closed.v1",
    ]
    events = await outbox_events(complaints_db, outbox, received["id"])
    assert events[1].data["acknowledge_breached"] is False
    assert events[-1].data["closure_confirmed_by_customer"] is True
    assert events[-1].data["number"] == received["number"]
    history = (await client.get(f"{url}/history", headers=auth("requester", subject="alice"))).json()
    assert ("status", "received", "acknowledged", "acknowledge") in [
        (h["field"], h["old"], h["new"], h["action"]) for h in history
    ]
    assert {h["actor"] for h in history if h["action"] == "confirm"} == {"alice"}


async def test_an_overdue_complaint_shows_its_breach_and_is_listed_as_overdue(
    client: httpx.AsyncClient, complaints_db: str, agent: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    admin = auth("admin", subject="importer")
    days_ago = datetime.now(UTC) - timedelta(days=3)
    late = await _receive(client, {**admin, OCCURRED_AT_HEADER: days_ago.isoformat()}, title="Late reply to my mail")
    on_time = await _receive(client, agent, title="Rude engineer")
    got = (await client.get(f"{COMPLAINTS}/{late['id']}", headers=agent)).json()
    assert (got["acknowledge_breached"], got["respond_breached"]) == (True, True)
    assert datetime.fromisoformat(got["received_at"]) == days_ago
    overdue = (await client.get(COMPLAINTS, params={"overdue": True, "limit": 200}, headers=agent)).json()
    assert late["id"] in [c["id"] for c in overdue["items"]]
    assert on_time["id"] not in [c["id"] for c in overdue["items"]]
    # Acknowledged now, three days late: still breached, and said so in its event.
    acknowledged = await _post(client, late, "acknowledge", agent)
    assert acknowledged["acknowledge_breached"] is True
    [*_, event] = await outbox_events(complaints_db, outbox, late["id"])
    assert (event.type, event.data["acknowledge_breached"]) == ("itsm.complaint.acknowledged.v1", True)


async def test_escalation_goes_to_the_relationship_manager_and_emits_an_event_for_a_notifier(
    client: httpx.AsyncClient, complaints_db: str, agent: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    received = await _receive(client, agent, relationship_manager=None)
    await _post(client, received, "acknowledge", agent)
    url = f"{COMPLAINTS}/{received['id']}/escalate"
    refused = await client.post(url, json={"reason": "no progress"}, headers=agent)
    assert_problem_naming(refused, 422, "relationship_manager")
    manager = auth("incident_manager", subject="ida")
    escalated = await client.post(url, json={"reason": "no progress", "relationship_manager": "rita"}, headers=manager)
    assert escalated.status_code == 200, escalated.text
    body = escalated.json()
    assert (body["status"], body["escalated_to"], body["escalation_level"], body["relationship_manager"]) == (
        "escalated",
        "rita",
        1,
        "rita",
    )
    [*_, event] = await outbox_events(complaints_db, outbox, received["id"])
    assert event.type == "itsm.complaint.escalated.v1"
    assert (event.data["escalated_to"], event.data["escalation_level"], event.data["reason"]) == (
        "rita",
        1,
        "no progress",
    )
    assert event.data["complainant"] == "alice"
    again = await client.post(url, json={"reason": "still nothing"}, headers=manager)
    assert again.status_code == 409
    assert again.json()["allowed_actions"] == ["investigate", "link", "resolve", "take_action", "update"]


async def test_links_are_checked_against_what_the_service_knows_and_suppliers_are_recorded(
    client: httpx.AsyncClient, complaints_db: str, agent: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    incident = await client.post(
        "/api/v1/incidents", json={"title": "no call back", "caller": "alice", "impact": 3, "urgency": 3}, headers=agent
    )
    assert incident.status_code == 201, incident.text
    change = str(uuid.uuid4())
    await _change_learnt(complaints_db, change, "CHG0000123")
    received = await _receive(client, agent)
    url = f"{COMPLAINTS}/{received['id']}/links"
    unknown = {"incident_ids": [str(uuid.uuid4())], "change_ids": [str(uuid.uuid4())]}
    before = await row_counts(complaints_db, *TABLES)
    refused = await client.post(url, json=unknown, headers=agent)
    assert_problem_naming(refused, 422, "incident_ids")
    assert_problem_naming(refused, 422, "change_ids")
    assert await row_counts(complaints_db, *TABLES) == before
    missing = await client.post(f"{COMPLAINTS}/{uuid.uuid4()}/links", json=unknown, headers=agent)
    assert missing.status_code == 404  # the complaint is looked for first
    stale = await client.post(url, json=unknown, headers={**agent, "If-Match": 'W/"7"'})
    assert stale.status_code == 412
    assert_problem_naming(
        await client.post(url, json={"request_ids": [str(uuid.uuid4())]}, headers=agent), 422, "request_ids"
    )

    supplier = str(uuid.uuid4())
    body = {"incident_ids": [incident.json()["id"]], "change_ids": [change], "supplier_ids": [supplier]}
    linked = await client.post(url, json={**body, "reason": "from the call"}, headers=agent)
    assert linked.status_code == 200, linked.text
    assert [(link["kind"], link["number"]) for link in linked.json()["links"]] == [
        ("incident", incident.json()["number"]),
        ("change", "CHG0000123"),
        ("supplier", None),
    ]
    assert linked.json()["version"] == 2
    again = await client.post(url, json={"incident_ids": [incident.json()["id"]]}, headers=agent)
    assert (again.status_code, again.json()["version"], len(again.json()["links"])) == (200, 2, 3)
    [*_, event] = await outbox_events(complaints_db, outbox, received["id"])
    assert event.type == "itsm.complaint.updated.v1"
    assert [link["kind"] for link in event.data["added_links"]] == ["incident", "change", "supplier"]
    read = (await client.get(f"{COMPLAINTS}/{received['id']}", headers=auth("requester", subject="alice"))).json()
    assert len(read["links"]) == 3


async def test_a_requester_raises_and_sees_only_their_own_complaints(
    client: httpx.AsyncClient, agent: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    carl = auth("requester", subject="carl")
    mine = await client.post(COMPLAINTS, json={"title": "Slow answers"}, headers=carl)
    assert (mine.status_code, mine.json()["complainant"], mine.json()["received_via"]) == (201, "carl", "portal")
    for_someone_else = await client.post(COMPLAINTS, json={"title": "x", "complainant": "dora"}, headers=carl)
    assert_problem_naming(for_someone_else, 422, "complainant")
    theirs = await _receive(client, agent, complainant="dora")
    listed = (await client.get(COMPLAINTS, params={"limit": 200}, headers=carl)).json()
    assert {c["complainant"] for c in listed["items"]} == {"carl"}
    assert (await client.get(COMPLAINTS, params={"complainant": "dora"}, headers=carl)).json()["total"] == 0
    hidden = await client.get(f"{COMPLAINTS}/{theirs['id']}", headers=carl)
    assert (hidden.status_code, hidden.json()["detail"]) == (404, f"complaint {theirs['id']} does not exist")
    acknowledging = await client.post(f"{COMPLAINTS}/{mine.json()['id']}/acknowledge", headers=carl)
    assert acknowledging.status_code == 403


async def test_the_complainant_reopens_an_unsatisfying_resolution_and_staff_close_unconfirmed(
    client: httpx.AsyncClient, complaints_db: str, agent: dict[str, str], auth: Callable[..., dict[str, str]]
) -> None:
    received = await _receive(client, agent)
    for action, body in (
        ("acknowledge", {}),
        ("investigate", {}),
        ("take-action", {"actions_taken": "apologised"}),
        ("resolve", {"resolution": "sorry"}),
    ):
        await _post(client, received, action, agent, **body)
    alice = auth("requester", subject="alice")
    reopened = await _post(client, received, "reopen", alice, reason="an apology is not enough")
    assert (reopened["status"], reopened["allowed_actions"]) == (
        "reopened",
        ["escalate", "investigate", "link", "update"],
    )
    await _post(client, received, "investigate", agent)
    await _post(client, received, "take-action", agent, actions_taken="refund")
    await _post(client, received, "resolve", agent, resolution="refunded")
    closed = await _post(client, received, "close", agent, reason="no answer in ten days")
    assert (closed["status"], closed["closure_confirmed_by_customer"]) == ("closed", False)
    types = [e.type.removeprefix("itsm.complaint.") for e in await outbox_events(complaints_db, outbox, received["id"])]
    assert types[5:] == ["reopened.v1", "investigation_started.v1", "action_taken.v1", "resolved.v1", "closed.v1"]


async def test_an_edit_needs_the_current_version_when_sent_and_is_in_the_history(
    client: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    received = await _receive(client, agent)
    url = f"{COMPLAINTS}/{received['id']}"
    edited = await client.patch(url, json={"owner": "otto", "reason": "triage"}, headers={**agent, "If-Match": 'W/"1"'})
    assert (edited.status_code, edited.json()["owner"], edited.headers["etag"]) == (200, "otto", 'W/"2"')
    stale = await client.patch(url, json={"owner": "ann"}, headers={**agent, "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    history = (await client.get(f"{url}/history", headers=agent)).json()
    assert [(h["field"], h["old"], h["new"], h["reason"]) for h in history] == [("owner", None, "otto", "triage")]
    refused = await client.post(f"{url}/resolve", json={"resolution": "done"}, headers=agent)
    assert refused.status_code == 409
    assert refused.json()["allowed_actions"] == ["acknowledge", "link", "update"]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "", {"title": ""}, "title"),
        ("POST", "", {"title": "x" * 201}, "title"),
        ("POST", "", {"title": "x", "received_via": "pigeon"}, "received_via"),
        ("POST", "", {"title": "x", "complainant": "a" * 201}, "complainant"),
        ("POST", "", {"title": "x", "service_id": "nope"}, "service_id"),
        ("POST", "", {"title": "x", "status": "closed"}, "status"),
        ("POST", "", {"title": "x", "description": "d" * 20_001}, "description"),
        ("PATCH", "/{id}", {"title": None}, "title"),
        ("PATCH", "/{id}", {"complainant": "bob"}, "complainant"),
        ("POST", "/{id}/escalate", {"reason": ""}, "reason"),
        ("POST", "/{id}/close", {}, "reason"),
        ("POST", "/{id}/take-action", {"actions_taken": " "}, "actions_taken"),
        ("POST", "/{id}/links", {"incident_ids": ["nope"]}, "incident_ids.0"),
        ("POST", "/{id}/links", {"supplier_ids": [str(uuid.UUID(int=i)) for i in range(101)]}, "supplier_ids"),
        # Text the database cannot store is refused before it gets there (it was a 500).
        ("POST", "", {"title": "nul\u0000here"}, "title"),
        ("POST", "", {"title": "x", "complainant": "lone\ud800surrogate"}, "complainant"),
        ("PATCH", "/{id}", {"root_cause": "\u0000"}, "root_cause"),
        ("POST", "/{id}/escalate", {"reason": "why\u0000"}, "reason"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient,
    complaints_db: str,
    agent: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    received = await _receive(client, agent)
    before = await row_counts(complaints_db, *TABLES)
    # Sent as ASCII JSON: a lone surrogate goes as its escape, as a client that means harm sends it.
    headers = {**agent, "Content-Type": "application/json"}
    url = COMPLAINTS + path.replace("{id}", received["id"])
    r = await client.request(method, url, content=json.dumps(body), headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert any(field in e["field"] for e in r.json()["errors"]), r.json()
    assert await row_counts(complaints_db, *TABLES) == before


@pytest.mark.parametrize("params", [{"q": "nul\u0000"}, {"complainant": "\u0000"}, {"owner": "a\u0000"}])
async def test_a_search_for_text_the_database_cannot_hold_is_a_422(
    client: httpx.AsyncClient, agent: dict[str, str], params: dict[str, str]
) -> None:
    r = await client.get(COMPLAINTS, params=params, headers=agent)
    assert_problem_naming(r, 422, next(iter(params)))


async def _change_learnt(database_url: str, change_id: str, number: str) -> None:
    """The incident service learns a change from the change service's `change.created.v1`."""
    data = ChangeCreated(
        change_id=uuid.UUID(change_id),
        number=number,
        title="Call-back rota",
        type="normal",
        status="draft",
        requester="rita",
        created_at=datetime.now(UTC),
    )
    engine = create_engine(database_url)
    try:
        async with UnitOfWork(engine, outbox, source="/itsm/test") as uow:
            await HANDLERS[data.routing_key](new_event(data, source="/itsm/change", subject=change_id), uow)
            await uow.commit()
    finally:
        await engine.dispose()
