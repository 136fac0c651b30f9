"""The authorisation matrix walked against the running incident service: every operation of its
table (incidents, service requests, problems, known errors, alerts, SLA calendars and policies, the
catalogue, complaints, surveys, records control), with a token of every role, on the caller's own record and on
someone else's. Own is a requester's as the caller (a complaint's: as its complainant; a survey's:
as its respondent), an agent's through the assignment group in its token. The expectation
is written here, apart from the service's table, so that flipping a row of the table (as
`test_flipping_any_row_of_the_table_fails_the_walk` does) fails the walk."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.incident.api import ROUTERS
from services.incident.api.deps import POLICY
from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import outbox
from services.incident.worker import HANDLERS
from shared.auth import Role
from shared.db import create_engine
from shared.uow import UnitOfWork
from tests.authorization import (
    HUMANS,
    IDP_ROLE,
    ME,
    NOT_REQUESTER,
    OTHER,
    RECORDS_CONTROL,
    Expect,
    Matrix,
    expect,
    routes_of,
)
from tests.conftest import running
from tests.infra import Servers, create_service_database, outbox_events

pytestmark = pytest.mark.asyncio(loop_scope="session")

APPROVER = IDP_ROLE

# ----------------------------------------------------------------------------- what the issue asks


R, A, M = Role.REQUESTER, Role.AGENT, Role.INCIDENT_MANAGER
PM, SLM, MONITORING = Role.PROBLEM_MANAGER, Role.SERVICE_LEVEL_MANAGER, Role.MONITORING
READ = expect(NOT_REQUESTER, own=[R])
STAFF_READ = expect(NOT_REQUESTER)
"""Records that are nobody's own (problems, known errors, alerts, SLA): a requester sees none."""
WORK = expect([A])
WORK_ASSIGNED = expect([], own=[A])
"""An agent works what is assigned to them or their group."""
PROBLEM_WORK = expect([PM])
SLM_WRITE = expect([SLM])
COMPLAINT_WORK = expect([A, M])
"""Agents and incident managers handle complaints."""
COMPLAINANT = expect([A, M], own=[R])
"""What the complainant does on their own complaint (raise it, confirm, reopen); staff too."""
EXPECTED: dict[str, Expect] = {
    "incidents.create_incident": expect([A], own=[R]),
    "incidents.get_incident": READ,
    "incidents.list_incidents": READ,
    "incidents.assign": WORK,
    "incidents.start": WORK_ASSIGNED,
    "incidents.hold": WORK_ASSIGNED,
    "incidents.resume": WORK_ASSIGNED,
    "incidents.resolve": WORK_ASSIGNED,
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
    "problems.trends": STAFF_READ,
    "problems.open_problem": PROBLEM_WORK,
    "problems.list_problems": STAFF_READ,
    "problems.get_problem": STAFF_READ,
    "problems.problem_history": STAFF_READ,
    "problems.problem_incidents": STAFF_READ,
    "problems.update_problem": PROBLEM_WORK,
    "problems.investigate": PROBLEM_WORK,
    "problems.publish_known_error": PROBLEM_WORK,
    "problems.link_change": PROBLEM_WORK,
    "problems.link_incidents": PROBLEM_WORK,
    "problems.resolve": PROBLEM_WORK,
    "problems.reopen": PROBLEM_WORK,
    "problems.close": PROBLEM_WORK,
    "problems.cancel": PROBLEM_WORK,
    "problems.change_links": READ,
    "known_errors.search_known_errors": STAFF_READ,
    "known_errors.record_known_error": PROBLEM_WORK,
    "known_errors.get_known_error": STAFF_READ,
    "known_errors.retire_known_error": PROBLEM_WORK,
    # Alertmanager posts with a monitoring service token; an agent may post one by hand.
    "alerts.alertmanager_webhook": expect([MONITORING, A]),
    "alerts.list_alerts": STAFF_READ,
    "sla.create_calendar": SLM_WRITE,
    "sla.list_calendars": STAFF_READ,
    "sla.get_calendar": STAFF_READ,
    "sla.replace_calendar": SLM_WRITE,
    "sla.delete_calendar": SLM_WRITE,
    "sla.create_policy": SLM_WRITE,
    "sla.list_policies": STAFF_READ,
    "sla.get_policy": STAFF_READ,
    "sla.replace_policy": SLM_WRITE,
    "sla.delete_policy": SLM_WRITE,
    "sla.incident_clocks": READ,
    # The catalogue is what a requester submits requests from: every person reads it.
    "catalogue.create_item": SLM_WRITE,
    "catalogue.list_items": expect(HUMANS),
    "catalogue.get_item": expect(HUMANS),
    "catalogue.replace_item": SLM_WRITE,
    "catalogue.delete_item": SLM_WRITE,
    "requests.submit_request": expect([A, R]),
    "requests.get_request": READ,
    "requests.list_requests": READ,
    # Whoever holds the item's approver role approves, any role of the identity provider: the use
    # case checks it; a requester reaches only their own (and may not approve it: 403 there).
    "requests.approve": expect([*(frozenset(Role) - {R}), APPROVER], own=[R]),
    "requests.reject": expect([*(frozenset(Role) - {R}), APPROVER], own=[R]),
    "requests.start": WORK_ASSIGNED,
    "requests.fulfil": WORK_ASSIGNED,
    "requests.close": expect([A], own=[R]),
    "requests.cancel": expect([A], own=[R]),
    "requests.history": READ,
    "requests.request_clocks": READ,
    "complaints.receive_complaint": COMPLAINANT,
    "complaints.list_complaints": READ,
    "complaints.get_complaint": READ,
    "complaints.complaint_history": READ,
    "complaints.update_complaint": COMPLAINT_WORK,
    "complaints.link_records": COMPLAINT_WORK,
    "complaints.acknowledge": COMPLAINT_WORK,
    "complaints.investigate": COMPLAINT_WORK,
    "complaints.take_action": COMPLAINT_WORK,
    "complaints.resolve": COMPLAINT_WORK,
    "complaints.confirm": COMPLAINANT,
    "complaints.close": COMPLAINT_WORK,
    "complaints.escalate": COMPLAINT_WORK,
    "complaints.reopen": COMPLAINANT,
    "surveys.list_surveys": READ,
    "surveys.get_survey": READ,
    "surveys.launch_campaign": expect([M, SLM]),
    "surveys.list_campaigns": STAFF_READ,
    "surveys.get_campaign": STAFF_READ,
    # The evidence export: the auditor's read-only token (and admin), not even a requester's own.
    "evidence.incident_evidence": expect([Role.AUDITOR]),
    "evidence.incidents_evidence": expect([Role.AUDITOR]),
    "evidence.problem_evidence": expect([Role.AUDITOR]),
    "evidence.request_evidence": expect([Role.AUDITOR]),
    "evidence.complaint_evidence": expect([Role.AUDITOR]),
    # Records control: the same rows in every service that mounts it.
    **RECORDS_CONTROL,
}

# ----------------------------------------------------------------------------- the walk

LISTS = {"incidents.list_incidents", "requests.list_requests", "complaints.list_complaints", "surveys.list_surveys"}
CREATES = {"incidents.create_incident": "caller", "complaints.receive_complaint": "complainant"}
"""A create where a requester names themselves (own) or someone else (refused: 422 on the field)."""


@dataclass
class Records:
    incident: dict[str, dict[str, Any]]  # "own" / "foreign" -> the incident
    request: dict[str, dict[str, Any]]
    complaint: dict[str, dict[str, Any]]
    item_id: str
    survey: dict[str, dict[str, Any]]


GROUP, FOREIGN_GROUP = "service-desk", "network"
"""The walk's own records are assigned to GROUP, which every token of the walk names in `groups`;
someone else's to FOREIGN_GROUP, and to an assignee who is not in the walk."""
MEMBER = "carol"
"""The agent's subject in the walk: neither the caller nor the assignee of any record, so its own
records are its group's."""


def _incident_body(caller: str) -> dict[str, Any]:
    return {"title": "printer on fire", "caller": caller, "impact": 3, "urgency": 3}


def _complaint_body(complainant: str) -> dict[str, Any]:
    return {"title": "nobody called back", "complainant": complainant}


def matrix(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], records: Records) -> Matrix:
    def judge(op: str, rule: str, which: str, r: httpx.Response) -> str | None:
        body = r.json()
        if op in CREATES:
            if which == "own" or rule == "allow":  # an agent raises incidents and complaints for anyone
                return None if r.status_code == 201 else f"expected 201, got {r.status_code}"
            fields = [e.get("field") for e in body.get("errors", [])]
            field = CREATES[op]
            return None if r.status_code == 422 and field in fields else f"expected 422 on {field}, got {r.status_code}"
        listed_records = {
            "incidents.list_incidents": records.incident,
            "requests.list_requests": records.request,
            "complaints.list_complaints": records.complaint,
            "surveys.list_surveys": records.survey,
        }
        record = listed_records[op][which]
        listed = r.status_code == 200 and record["id"] in [i["id"] for i in body["items"]]
        if rule == "own" and which == "foreign":
            return "another requester's record is listed" if listed else None
        return None if listed else "the record is not listed"

    return Matrix(
        client,
        auth,
        EXPECTED,
        routes_of(ROUTERS, POLICY),
        records={
            "incident_id": {w: records.incident[w]["id"] for w in ("own", "foreign")},
            "request_id": {w: records.request[w]["id"] for w in ("own", "foreign")},
            "complaint_id": {w: records.complaint[w]["id"] for w in ("own", "foreign")},
            "survey_id": {w: records.survey[w]["id"] for w in ("own", "foreign")},
        },
        bodies={
            "incidents.create_incident": lambda which: _incident_body(ME if which == "own" else OTHER),
            "complaints.receive_complaint": lambda which: _complaint_body(ME if which == "own" else OTHER),
            "requests.submit_request": lambda which: {"catalogue_item_id": records.item_id},
        },
        params={
            "incidents.list_incidents": lambda which: {"q": records.incident[which]["number"]},
            "requests.list_requests": lambda which: {"q": records.request[which]["number"]},
            "complaints.list_complaints": lambda which: {"q": records.complaint[which]["number"]},
            "surveys.list_surveys": lambda which: {"ticket_id": records.survey[which]["ticket_id"]},
        },
        special=judge,
        special_ops=frozenset({*CREATES, *LISTS}),
        groups=(GROUP,),
        subjects={A: MEMBER},
    )


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


async def _survey(client: httpx.AsyncClient, app: Any, agent: dict[str, str], who: str) -> dict[str, Any]:
    """A survey of `who`, on an incident of theirs resolved (its event consumed as the worker does)."""
    r = await client.post("/api/v1/incidents", json=_incident_body(who), headers=agent)
    assert r.status_code == 201, r.text
    incident_id = r.json()["id"]
    resolved = await client.post(
        f"/api/v1/incidents/{incident_id}/resolve", json={"resolution_code": "fixed"}, headers=agent
    )
    assert resolved.status_code == 200, resolved.text
    settings: IncidentSettings = app.state.settings
    settings = settings.model_validate({**settings.model_dump(), "survey_throttle_days": 0})
    (event,) = [
        e for e in await outbox_events(settings.database_url, outbox, incident_id) if e.type.endswith("resolved.v1")
    ]
    engine = create_engine(settings.database_url)
    try:
        async with UnitOfWork(engine, outbox, source="/itsm/incident", settings=settings) as uow:
            await HANDLERS[event.routing_key](event, uow)
            await uow.commit()
    finally:
        await engine.dispose()
    found = await client.get("/api/v1/surveys", params={"ticket_id": incident_id}, headers=agent)
    (survey,) = found.json()["items"]
    return dict(survey)


async def _records(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], app: Any) -> Records:
    agent = auth("agent", subject="ann")
    incidents, requests, complaints, items, surveys = {}, {}, {}, {}, {}
    for which, who, group in (("own", ME, GROUP), ("foreign", OTHER, FOREIGN_GROUP)):
        body = {
            "name": f"item-{uuid.uuid4().hex[:8]}",
            "fulfilment_group": group,
            "needs_approval": True,
            "approver_role": APPROVER,
        }
        item = await client.post("/api/v1/catalogue/items", json=body, headers=auth(SLM, subject="sue"))
        assert item.status_code == 201, item.text
        items[which] = item.json()["id"]
        r = await client.post("/api/v1/incidents", json=_incident_body(who), headers=agent)
        assert r.status_code == 201, r.text
        assignment = {"assignment_group": group, **({"assignee": "dave"} if which == "foreign" else {})}
        r = await client.post(f"/api/v1/incidents/{r.json()['id']}/assign", json=assignment, headers=agent)
        assert r.status_code == 200, r.text
        incidents[which] = r.json()
        r = await client.post(
            "/api/v1/requests", json={"catalogue_item_id": items[which]}, headers=auth("requester", subject=who)
        )
        assert r.status_code == 201, r.text
        requests[which] = r.json()
        r = await client.post("/api/v1/complaints", json=_complaint_body(who), headers=agent)
        assert r.status_code == 201, r.text
        complaints[which] = r.json()
        surveys[which] = await _survey(client, app, agent, who)
    # Someone else's request is being fulfilled by its group's dave: whoever acts on it in the walk
    # (admin may) leaves dave its assignee.
    url = f"/api/v1/requests/{requests['foreign']['id']}"
    assert (await client.post(f"{url}/approve", json={}, headers=auth(APPROVER, subject="sue"))).status_code == 200
    dave = auth("agent", subject="dave", groups=(FOREIGN_GROUP,))
    assert (await client.post(f"{url}/start", headers=dave)).status_code == 200
    return Records(incidents, requests, complaints, items["own"], surveys)


async def test_every_row_of_the_table_has_its_expectation() -> None:
    assert sorted(POLICY.table) == sorted(EXPECTED)


async def test_the_matrix_holds_for_every_operation_role_and_record(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], app: Any
) -> None:
    assert await matrix(client, auth, await _records(client, auth, app)).walk() == []


async def test_flipping_any_row_of_the_table_fails_the_walk(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch, app: Any
) -> None:
    """Each row of the service's table in turn flipped (allow <-> deny, own -> allow) in the running
    app: the walk of that row no longer matches what the issue asks."""
    walk = matrix(client, auth, await _records(client, auth, app))
    assert sorted(POLICY.table) == sorted(EXPECTED)
    assert await walk.unnoticed_flips(POLICY, monkeypatch) == []
    assert await walk.walk() == [], "every row restored"
