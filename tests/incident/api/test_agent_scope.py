"""An agent works what is assigned to them or to one of their groups (the token's `groups` claim):
starting, holding, resuming and resolving another group's incident, or starting and fulfilling
another group's request, answers 404 as if it did not exist, before any state check. Any agent
may still take an incident ("assign to me"), which is recorded, and then works it. Reading stays
open to every agent."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from tests.conftest import running
from tests.infra import Servers, create_service_database

pytestmark = pytest.mark.asyncio(loop_scope="session")

INCIDENTS, REQUESTS, ITEMS = "/api/v1/incidents", "/api/v1/requests", "/api/v1/catalogue/items"
Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def scope_db(servers: Servers) -> str:
    return await create_service_database(servers, "incident", label="agent_scope")


@pytest.fixture
async def client(scope_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(IncidentSettings, scope_db, run_worker=False))) as client:
        yield client


async def _assigned(client: httpx.AsyncClient, auth: Auth, group: str, assignee: str | None = None) -> str:
    body = {"title": f"mail {uuid.uuid4().hex[:6]}", "caller": "carl", "impact": 3, "urgency": 3}
    r = await client.post(INCIDENTS, json=body, headers=auth("agent", subject="ann", groups=("desk",)))
    assert r.status_code == 201, r.text
    url = f"{INCIDENTS}/{r.json()['id']}"
    assignment = {"assignment_group": group, **({"assignee": assignee} if assignee else {})}
    r = await client.post(f"{url}/assign", json=assignment, headers=auth("agent", subject="ann"))
    assert r.status_code == 200, r.text
    return url


async def test_another_groups_incident_is_404_to_an_agent_before_any_state_check(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    url = await _assigned(client, auth, "network", assignee="nina")
    outsider = auth("agent", subject="ann", groups=("desk",))
    gone = f"incident {url.rsplit('/', 1)[-1]} does not exist"
    answers = [
        await client.post(f"{url}/start", headers=outsider),
        await client.post(f"{url}/hold", json={"reason": "awaiting_caller"}, headers=outsider),
        # Neither is on hold or in progress: the group would get a 409 here.
        await client.post(f"{url}/resume", headers=outsider),
        await client.post(f"{url}/resolve", json={"resolution_code": "fixed"}, headers=outsider),
    ]
    assert [(r.status_code, r.json()["detail"]) for r in answers] == [(404, gone)] * len(answers)
    assert (await client.post(f"{url}/resume", headers=auth("agent", subject="nina"))).status_code == 409
    assert (await client.get(url, headers=outsider)).json()["status"] == "assigned", "reading stays open"


async def test_an_agent_of_the_group_works_its_incident_and_the_assignee_theirs(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    url = await _assigned(client, auth, "network")
    member = auth("agent", subject="nico", groups=("network", "unix"))
    assert (await client.post(f"{url}/start", headers=member)).status_code == 200
    held = await client.post(f"{url}/hold", json={"reason": "awaiting_caller"}, headers=member)
    assert held.status_code == 200, held.text
    assert (await client.post(f"{url}/resume", headers=member)).status_code == 200
    mine = await _assigned(client, auth, "network", assignee="nina")
    assignee = auth("agent", subject="nina")  # in no group at all: the assignee
    assert (await client.post(f"{mine}/start", headers=assignee)).status_code == 200
    resolved = await client.post(f"{mine}/resolve", json={"resolution_code": "fixed"}, headers=assignee)
    assert (resolved.status_code, resolved.json()["status"]) == (200, "resolved")


async def test_an_agent_takes_any_incident_by_assigning_it_to_themselves_and_it_is_recorded(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    url = await _assigned(client, auth, "network", assignee="nina")
    ann = auth("agent", subject="ann", groups=("desk",))
    assert (await client.post(f"{url}/start", headers=ann)).status_code == 404
    body = {"assignment_group": "desk", "assignee": "ann", "reason": "nina is away"}
    assert (await client.post(f"{url}/assign", json=body, headers=ann)).status_code == 200
    assert (await client.post(f"{url}/start", headers=ann)).status_code == 200
    history = (await client.get(f"{url}/history", headers=ann)).json()
    assert ("assignee", "nina", "ann", "ann", "nina is away") in [
        (h["field"], h["old"], h["new"], h["actor"], h["reason"]) for h in history
    ]
    nina = auth("agent", subject="nina")
    assert (await client.post(f"{url}/hold", json={"reason": "awaiting_caller"}, headers=nina)).status_code == 404


async def test_a_new_unassigned_incident_is_the_desks_queue_any_agent_resolves_it_on_first_contact(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    body = {"title": "password expired", "caller": "rob", "impact": 3, "urgency": 3}
    raised = await client.post(INCIDENTS, json=body, headers=auth("requester", subject="rob"))
    assert raised.status_code == 201, raised.text
    url = f"{INCIDENTS}/{raised.json()['id']}"
    another = auth("requester", subject="rita")
    assert (await client.get(url, headers=another)).status_code == 404, "a requester still sees only their own"
    fix = {"resolution_code": "fixed", "resolution_notes": "reset on the phone"}
    resolved = await client.post(f"{url}/resolve", json=fix, headers=auth("agent", subject="ann"))
    assert (resolved.status_code, resolved.json()["status"]) == (200, "resolved"), resolved.text


async def _request(client: httpx.AsyncClient, auth: Auth, group: str) -> str:
    item = {"name": f"item-{uuid.uuid4().hex[:8]}", "fulfilment_group": group}
    r = await client.post(ITEMS, json=item, headers=auth("service_level_manager", subject="sue"))
    assert r.status_code == 201, r.text
    r = await client.post(
        REQUESTS, json={"catalogue_item_id": r.json()["id"]}, headers=auth("requester", subject="rob")
    )
    assert r.status_code == 201, r.text
    return f"{REQUESTS}/{r.json()['id']}"


async def test_an_agent_fulfils_the_requests_of_their_group_and_those_assigned_to_them(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    url = await _request(client, auth, "workplace")
    outsider = auth("agent", subject="ann", groups=("desk",))
    gone = f"request {url.rsplit('/', 1)[-1]} does not exist"
    refused = [
        await client.post(f"{url}/start", headers=outsider),
        await client.post(f"{url}/fulfil", headers=outsider),
    ]
    assert [(r.status_code, r.json()["detail"]) for r in refused] == [(404, gone)] * 2
    member = auth("agent", subject="wim", groups=("workplace",))
    started = await client.post(f"{url}/start", json={"assignee": "ann"}, headers=member)
    assert (started.status_code, started.json()["assignee"]) == (200, "ann")
    fulfilled = await client.post(f"{url}/fulfil", json={"notes": "done"}, headers=outsider)  # now the assignee
    assert (fulfilled.status_code, fulfilled.json()["status"]) == (200, "fulfilled")
    assert (await client.get(url, headers=auth("agent", subject="zoe"))).status_code == 200, "reading stays open"
