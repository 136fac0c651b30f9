"""The authorisation matrix walked against the running incident service: every incident and
service-request operation, with a token of every role, on the caller's own record and on another
requester's. The expectation is written here, apart from the service's table, so that flipping a
row of the table (as `test_flipping_any_row_of_the_table_fails_the_walk` does) fails the walk."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from services.incident.api import ROUTERS
from services.incident.api.deps import POLICY
from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from shared.auth import Role
from shared.authorization import COLUMNS, Rule
from tests.conftest import running
from tests.infra import Servers, create_service_database

pytestmark = pytest.mark.asyncio(loop_scope="session")

ME, OTHER = "alice", "bob"
APPROVER = "request_approver"  # a role of the identity provider that is not one of the suite's
ROLES = [*[r.value for r in Role], APPROVER]
HUMANS = frozenset(Role) - {Role.PIPELINE, Role.MONITORING}
NOT_REQUESTER = HUMANS - {Role.REQUESTER}

# ----------------------------------------------------------------------------- what the issue asks


@dataclass(frozen=True)
class Expect:
    allow: frozenset[str]
    own: frozenset[str] = frozenset()

    def of(self, role: str) -> str:
        if role == Role.ADMIN or role in self.allow:
            return "allow"
        return "own" if role in self.own else "deny"


def expect(allow: Iterable[str], own: Iterable[str] = ()) -> Expect:
    return Expect(frozenset(str(r) for r in allow), frozenset(str(r) for r in own))


R, A, M = Role.REQUESTER, Role.AGENT, Role.INCIDENT_MANAGER
READ = expect(NOT_REQUESTER, own=[R])
WORK = expect([A])
EXPECTED: dict[str, Expect] = {
    "incidents.create_incident": expect([A], own=[R]),
    "incidents.get_incident": READ,
    "incidents.list_incidents": READ,
    "incidents.assign": WORK,
    "incidents.start": WORK,
    "incidents.hold": WORK,
    "incidents.resume": WORK,
    "incidents.resolve": WORK,
    "incidents.close": expect([A], own=[R]),
    "incidents.reopen": expect([A], own=[R]),
    "incidents.cancel": WORK,
    "incidents.history": READ,
    "incidents.update_incident": WORK,
    "incidents.override_priority": WORK,
    "incidents.escalate": expect([A, M]),
    "incidents.declare_major": expect([M]),
    "incidents.post_major_update": expect([A, M]),
    "incidents.record_review": expect([M]),
    "incidents.get_review": READ,
    "incidents.add_note": expect([A, M], own=[R]),
    "incidents.timeline": READ,
    "problems.change_links": READ,
    "sla.incident_clocks": READ,
    "requests.submit_request": expect([A, R]),
    "requests.get_request": READ,
    "requests.list_requests": READ,
    # Whoever holds the item's approver role approves, any role of the identity provider: the use
    # case checks it; a requester reaches only their own (and may not approve it: 403 there).
    "requests.approve": expect([*(frozenset(Role) - {R}), APPROVER], own=[R]),
    "requests.reject": expect([*(frozenset(Role) - {R}), APPROVER], own=[R]),
    "requests.start": WORK,
    "requests.fulfil": WORK,
    "requests.close": expect([A], own=[R]),
    "requests.cancel": expect([A], own=[R]),
    "requests.history": READ,
    "requests.request_clocks": READ,
}

# ----------------------------------------------------------------------------- the walk


@dataclass
class Records:
    incident: dict[str, dict[str, Any]]  # "own" / "foreign" -> the incident
    request: dict[str, dict[str, Any]]
    item_id: str


def operation_of(route: APIRoute) -> str:
    return f"{route.endpoint.__module__.rsplit('.', 1)[-1]}.{route.name}"


def routes(app: Any) -> dict[str, APIRoute]:
    """The incident and service-request routes the app mounts (from its routers)."""
    found = {}
    for route in (r for router in ROUTERS for r in router.routes):
        if isinstance(route, APIRoute) and route.path.startswith(("/api/v1/incidents", "/api/v1/requests")):
            found[operation_of(route)] = route
    return found


def _incident_body(caller: str) -> dict[str, Any]:
    return {"title": "printer on fire", "caller": caller, "impact": 3, "urgency": 3}


async def _send(
    client: httpx.AsyncClient, route: APIRoute, op: str, which: str, records: Records, headers: dict[str, str]
) -> httpx.Response:
    method = sorted(route.methods)[0]
    path, params, body = route.path, {}, {}
    kind = _kind(route)
    record = getattr(records, kind)[which]
    path = path.replace("{incident_id}", record["id"]).replace("{request_id}", record["id"])
    if op == "incidents.create_incident":
        body = _incident_body(ME if which == "own" else OTHER)
    elif op == "requests.submit_request":
        body = {"catalogue_item_id": records.item_id}
    elif op in ("incidents.list_incidents", "requests.list_requests"):
        params = {"q": record["number"]}
    return await client.request(method, path, params=params, json=body if method != "GET" else None, headers=headers)


def _kind(route: APIRoute) -> str:
    return "incident" if route.path.startswith("/api/v1/incidents") else "request"


def verdict(op: str, kind: str, rule: str, which: str, r: httpx.Response, records: Records) -> str | None:
    """None when the answer is what `rule` means for this cell, else what went wrong."""
    record = getattr(records, kind)[which]
    body = r.json() if r.headers.get("content-type", "").endswith("json") else {}
    detail = body.get("detail") if isinstance(body, dict) else None
    policy_403 = r.status_code == 403 and isinstance(body, dict) and body.get("operation") == op
    hidden = (
        r.status_code == 404
        and detail == f"{'incident' if kind == 'incident' else 'request'} {record['id']} does not exist"
    )
    listed = None
    if op.endswith("list_incidents") or op.endswith("list_requests"):
        listed = r.status_code == 200 and record["id"] in [i["id"] for i in body["items"]]
    if rule == "deny":
        return None if policy_403 else f"expected 403 by the table, got {r.status_code} {detail}"
    if r.status_code in (401, 403) and (policy_403 or "needs one of the roles" in str(detail)):
        return f"refused {r.status_code} {detail}"
    if rule == "own" and which == "foreign":
        if op == "incidents.create_incident":
            fields = [e.get("field") for e in body.get("errors", [])] if isinstance(body, dict) else []
            return (
                None if r.status_code == 422 and "caller" in fields else f"expected 422 on caller, got {r.status_code}"
            )
        if listed is not None:
            return None if r.status_code == 200 and not listed else "another requester's record is listed"
        return None if hidden else f"expected 404 for another's record, got {r.status_code} {detail}"
    if hidden:
        return "refused with 404"
    if listed is False:
        return "the record is not listed"
    return None


async def walk(
    client: httpx.AsyncClient,
    app: Any,
    records: Records,
    auth: Callable[..., dict[str, str]],
    expected: dict[str, Expect],
    only: Iterable[str] | None = None,
) -> list[str]:
    found = routes(app)
    failures = []
    for op in only or expected:
        for role in ROLES:
            rule = expected[op].of(role)
            headers = auth(role, subject=ME)
            for which in ("own", "foreign"):
                r = await _send(client, found[op], op, which, records, headers)
                problem = verdict(op, _kind(found[op]), rule, which, r, records)
                if problem:
                    failures.append(f"{op} {role} {which} ({rule}): {problem}")
    return failures


@pytest.fixture(scope="module")
async def authz_db(servers: Servers) -> str:
    return await create_service_database(servers, "incident", label="authz_matrix")


@pytest.fixture
async def app(authz_db: str, make_settings: Callable[..., Any]) -> Any:
    return create_app(make_settings(IncidentSettings, authz_db, run_worker=False))


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as client:
        yield client


async def _records(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]) -> Records:
    item = await client.post(
        "/api/v1/catalogue/items",
        json={
            "name": f"item-{uuid.uuid4().hex[:8]}",
            "fulfilment_group": "workplace",
            "needs_approval": True,
            "approver_role": APPROVER,
        },
        headers=auth("service_level_manager", subject="sue"),
    )
    assert item.status_code == 201, item.text
    incidents, requests = {}, {}
    for which, who in (("own", ME), ("foreign", OTHER)):
        r = await client.post("/api/v1/incidents", json=_incident_body(who), headers=auth("agent", subject="ann"))
        assert r.status_code == 201, r.text
        incidents[which] = r.json()
        r = await client.post(
            "/api/v1/requests", json={"catalogue_item_id": item.json()["id"]}, headers=auth("requester", subject=who)
        )
        assert r.status_code == 201, r.text
        requests[which] = r.json()
    return Records(incidents, requests, item.json()["id"])


async def test_every_incident_and_request_route_has_a_row_in_the_expectation(app: Any) -> None:
    assert sorted(routes(app)) == sorted(EXPECTED)


async def test_the_matrix_holds_for_every_operation_role_and_record(
    client: httpx.AsyncClient, app: Any, auth: Callable[..., dict[str, str]]
) -> None:
    records = await _records(client, auth)
    assert await walk(client, app, records, auth, EXPECTED) == []


FLIP = {Rule.ALLOW: Rule.DENY, Rule.DENY: Rule.ALLOW, Rule.OWN: Rule.ALLOW}


async def test_flipping_any_row_of_the_table_fails_the_walk(
    client: httpx.AsyncClient, app: Any, auth: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each row of the service's table in turn flipped (allow <-> deny, own -> allow) in the running
    app: the walk of that row no longer matches what the issue asks."""
    records = await _records(client, auth)
    assert sorted(POLICY.table) == sorted(EXPECTED)
    unnoticed = []
    for op, cells in list(POLICY.table.items()):
        with monkeypatch.context() as patch:
            patch.setitem(POLICY.table, op, {role: FLIP[rule] for role, rule in cells.items()})
            if not await walk(client, app, records, auth, EXPECTED, only=[op]):
                unnoticed.append(op)
        assert await walk(client, app, records, auth, EXPECTED, only=[op]) == [], f"{op} restored"
    assert unnoticed == []


async def test_the_table_names_every_role_for_every_operation() -> None:
    assert all(sorted(cells) == sorted(COLUMNS) for cells in POLICY.table.values())
