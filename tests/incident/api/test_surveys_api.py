"""Transactional surveys over HTTP (ISO/IEC 20000-1 7.1), on PostgreSQL: a resolved incident's own
event issues a survey to its caller (sampled, throttled, once per ticket), the caller alone sees
its signed link, the public page answers once (a second use 409, an expired link 410, a forged or
unknown one a 404 that says nothing), a low score opens a complaint linked to the ticket, and the
events carry neither the link nor the comment."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.incident.app import create_app
from services.incident.domain.surveys import sign_link
from services.incident.settings import IncidentSettings
from services.incident.store.complaints import complaint
from services.incident.store.surveys import survey
from services.incident.store.tables import outbox
from services.incident.worker import HANDLERS
from shared.db import create_engine
from shared.events import CloudEvent, new_event
from shared.events.incident import RequestFulfilled
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.infra import Servers, create_service_database, outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

SURVEYS, INCIDENTS = "/api/v1/surveys", "/api/v1/incidents"
SECRET = "a-survey-secret-for-the-api-tests"


DB: dict[str, str] = {}


@pytest.fixture(scope="module")
async def surveys_db(servers: Servers) -> str:
    DB["url"] = await create_service_database(servers, "incident", label="surveys_api")
    return DB["url"]


def _settings(make_settings: Callable[..., Any], database_url: str, **overrides: Any) -> IncidentSettings:
    values = {"run_worker": False, "survey_link_secret": SECRET, "survey_throttle_days": 30, **overrides}
    settings: IncidentSettings = make_settings(IncidentSettings, database_url, **values)
    return settings


@pytest.fixture
def settings(surveys_db: str, make_settings: Callable[..., Any]) -> IncidentSettings:
    return _settings(make_settings, surveys_db)


@pytest.fixture
async def client(settings: IncidentSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as client:
        yield client


async def consume(settings: IncidentSettings, event: CloudEvent) -> None:
    """The worker's handler for the event, in a unit of work of its own (as the consumer runs it)."""
    engine = create_engine(settings.database_url)
    try:
        async with UnitOfWork(engine, outbox, source="/itsm/incident", settings=settings) as uow:
            await HANDLERS[event.routing_key](event, uow)
            await uow.commit()
    finally:
        await engine.dispose()


async def resolve_incident(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], caller: str, service_id: uuid.UUID | None = None
) -> tuple[str, CloudEvent]:
    """An incident of `caller` resolved by an agent; its id and its `incident.resolved.v1`."""
    ann = auth("agent", subject="ann")
    body: dict[str, Any] = {"title": "Printer jams", "caller": caller, "impact": 3, "urgency": 3}
    if service_id:
        body["service_id"] = str(service_id)
    created = await client.post(INCIDENTS, json=body, headers=ann)
    assert created.status_code == 201, created.text
    incident_id = created.json()["id"]
    resolved = await client.post(f"{INCIDENTS}/{incident_id}/resolve", json={"resolution_code": "fixed"}, headers=ann)
    assert resolved.status_code == 200, resolved.text
    return incident_id, await _event(DB["url"], incident_id, "itsm.incident.resolved.v1")


async def _event(database_url: str, subject: str, event_type: str) -> CloudEvent:
    found = [e for e in await outbox_events(database_url, outbox, subject) if e.type == event_type]
    assert len(found) == 1, [e.type for e in found]
    return found[0]


async def my_survey(client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], person: str) -> dict[str, Any]:
    mine = (await client.get(SURVEYS, headers=auth("requester", subject=person))).json()
    assert mine["total"] == 1, mine
    return dict(mine["items"][0])


async def test_a_resolved_incident_issues_a_survey_that_is_answered_once_on_its_public_page(
    client: httpx.AsyncClient, settings: IncidentSettings, auth: Callable[..., dict[str, str]]
) -> None:
    person, service = f"carol-{uuid.uuid4().hex[:6]}", uuid.uuid4()
    incident_id, resolved = await resolve_incident(client, auth, person, service)
    await consume(settings, resolved)

    item = await my_survey(client, auth, person)
    assert item["ticket_kind"] == "incident" and item["ticket_id"] == incident_id
    assert item["status"] == "issued" and item["respondent"] == person and item["service_id"] == str(service)
    assert item["number"].startswith("SRV") and item["link"].startswith("/survey/")
    staff = (await client.get(f"{SURVEYS}/{item['id']}", headers=auth("incident_manager"))).json()
    assert staff["number"] == item["number"] and staff["link"] is None  # staff cannot answer for the person
    other = await client.get(f"{SURVEYS}/{item['id']}", headers=auth("requester", subject="mallory"))
    assert other.status_code == 404

    issued = await _event(settings.database_url, item["id"], "itsm.survey.issued.v1")
    assert issued.data["respondent"] == person and issued.data["ticket_number"].startswith("INC")
    assert issued.data["sampling_rate"] == 1.0
    assert item["link"].split("/")[-1] not in issued.model_dump_json()  # the link is no event's

    # The page: a plain form, no script allowed, the token kept from any Referer.
    page = await client.get(item["link"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert '<form method="post"' in page.text and "<script" not in page.text
    assert staff["ticket_number"] in page.text

    answered = await client.post(item["link"], data={"score": "5", "comment": "<b>quick</b> & kind"})
    assert answered.status_code == 200 and 'data-state="thanks"' in answered.text
    again = await client.post(item["link"], data={"score": "1"})
    assert again.status_code == 409 and 'data-state="already_answered"' in again.text
    assert "already answered" in again.text
    reopened = await client.get(item["link"])
    assert reopened.status_code == 409

    done = (await client.get(f"{SURVEYS}/{item['id']}", headers=auth("agent"))).json()
    assert done["status"] == "answered" and done["score"] == 5 and done["comment"] == "<b>quick</b> & kind"
    assert done["complaint_id"] is None and done["answered_at"] is not None
    assert (await my_survey(client, auth, person))["link"] is None  # answered: no link any more
    event = await _event(settings.database_url, item["id"], "itsm.survey.answered.v1")
    assert event.data["score"] == 5 and event.data["has_comment"] is True
    assert "quick" not in event.model_dump_json()  # the comment stays here


async def test_the_comment_is_shown_escaped(
    client: httpx.AsyncClient, settings: IncidentSettings, auth: Callable[..., dict[str, str]]
) -> None:
    person = f"<i>eve-{uuid.uuid4().hex[:4]}</i>"
    _, resolved = await resolve_incident(client, auth, person)
    await consume(settings, resolved)
    item = await my_survey(client, auth, person)
    page = await client.get(item["link"])
    assert page.status_code == 200 and "<i>" not in page.text  # nothing of a record is rendered raw


async def test_a_low_score_opens_a_complaint_linked_to_the_ticket(
    client: httpx.AsyncClient, settings: IncidentSettings, auth: Callable[..., dict[str, str]]
) -> None:
    person, service = f"dave-{uuid.uuid4().hex[:6]}", uuid.uuid4()
    incident_id, resolved = await resolve_incident(client, auth, person, service)
    await consume(settings, resolved)
    item = await my_survey(client, auth, person)

    answered = await client.post(item["link"], data={"score": "2", "comment": "Took a week"})
    assert answered.status_code == 200
    done = (await client.get(f"{SURVEYS}/{item['id']}", headers=auth("agent"))).json()
    assert done["complaint_id"] is not None
    found = (await client.get(f"/api/v1/complaints/{done['complaint_id']}", headers=auth("agent"))).json()
    assert found["complainant"] == person and found["received_via"] == "survey"
    assert found["description"] == "Took a week" and found["service_id"] == str(service)
    assert found["title"] == f"Low satisfaction score 2/5 on incident {item['ticket_number']}"
    assert found["recorded_by"] == "itsm-surveys" and found["status"] == "received"
    assert [(link["kind"], link["id"]) for link in found["links"]] == [("incident", incident_id)]
    event = await _event(settings.database_url, item["id"], "itsm.survey.answered.v1")
    assert event.data["complaint_id"] == done["complaint_id"]
    # The complainant sees it as their own.
    theirs = await client.get(f"/api/v1/complaints/{done['complaint_id']}", headers=auth("requester", subject=person))
    assert theirs.status_code == 200


async def test_a_score_above_the_threshold_opens_no_complaint(
    client: httpx.AsyncClient, settings: IncidentSettings, auth: Callable[..., dict[str, str]], surveys_db: str
) -> None:
    person = f"fay-{uuid.uuid4().hex[:6]}"
    _, resolved = await resolve_incident(client, auth, person)
    await consume(settings, resolved)
    item = await my_survey(client, auth, person)
    before = await row_counts(surveys_db, complaint)
    assert (await client.post(item["link"], data={"score": "3"})).status_code == 200
    assert await row_counts(surveys_db, complaint) == before


async def test_one_survey_per_ticket_and_per_person_within_the_throttle(
    client: httpx.AsyncClient,
    settings: IncidentSettings,
    auth: Callable[..., dict[str, str]],
    surveys_db: str,
    make_settings: Callable[..., Any],
) -> None:
    person = f"gus-{uuid.uuid4().hex[:6]}"
    _, resolved = await resolve_incident(client, auth, person)
    await consume(settings, resolved)
    await consume(settings, resolved)  # redelivered (or reopened and resolved again): one survey
    _, second = await resolve_incident(client, auth, person)
    await consume(settings, second)  # the same person within 30 days: not asked again
    mine = (await client.get(SURVEYS, headers=auth("agent"), params={"respondent": person})).json()
    assert mine["total"] == 1

    unthrottled = _settings(make_settings, surveys_db, survey_throttle_days=0)
    await consume(unthrottled, second)
    assert (await client.get(SURVEYS, headers=auth("agent"), params={"respondent": person})).json()["total"] == 2


async def test_an_unsampled_ticket_issues_no_survey(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], surveys_db: str, make_settings: Callable[..., Any]
) -> None:
    person = f"hal-{uuid.uuid4().hex[:6]}"
    _, resolved = await resolve_incident(client, auth, person)
    before = await row_counts(surveys_db, survey)
    await consume(_settings(make_settings, surveys_db, survey_sampling_rate=0.0), resolved)
    assert await row_counts(surveys_db, survey) == before


async def test_a_fulfilled_request_asks_its_requester(
    client: httpx.AsyncClient, settings: IncidentSettings, auth: Callable[..., dict[str, str]]
) -> None:
    person, request_id, now = f"ivy-{uuid.uuid4().hex[:6]}", uuid.uuid4(), datetime.now(UTC)
    data = RequestFulfilled(
        request_id=request_id,
        number="REQ0000042",
        status="fulfilled",
        previous_status="in_fulfilment",
        catalogue_item="Laptop",
        requester=person,
        priority=4,
        actor="ann",
        occurred_at=now,
        submitted_at=now - timedelta(days=1),
        fulfilled_at=now,
    )
    await consume(settings, new_event(data, source="/itsm/incident", subject=str(request_id)))
    item = await my_survey(client, auth, person)
    assert (item["ticket_kind"], item["ticket_number"], item["ticket_id"]) == ("request", "REQ0000042", str(request_id))


async def test_a_forged_unknown_or_expired_link_is_refused_saying_nothing(
    client: httpx.AsyncClient, settings: IncidentSettings, auth: Callable[..., dict[str, str]], surveys_db: str
) -> None:
    secret = SECRET.encode()
    future = datetime.now(UTC) + timedelta(days=1)
    unknown = sign_link(uuid.uuid4(), future, secret)
    forged = sign_link(uuid.uuid4(), future, b"not the service's secret")
    invalid = [f"/survey/{unknown}", f"/survey/{forged}", "/survey/nonsense", f"/survey/{'0' * 32}.1.x"]
    bodies = set()
    for link in invalid:
        for answer in (client.get(link), client.post(link, data={"score": "4"})):
            r = await answer
            assert r.status_code == 404, (link, r.text)
            bodies.add(r.text.replace(link, ""))
    assert len(bodies) == 1 and "not valid" in bodies.pop()  # one answer for all: nothing learnt

    person = f"jon-{uuid.uuid4().hex[:6]}"
    _, resolved = await resolve_incident(client, auth, person)
    await consume(settings, resolved)
    item = await my_survey(client, auth, person)
    past = datetime.now(UTC) - timedelta(seconds=1)
    expired = f"/survey/{sign_link(uuid.UUID(item['id']), past, secret)}"
    r = await client.post(expired, data={"score": "4"})
    assert r.status_code == 410 and "expired" in r.text
    # The genuine link with its expiry altered is not the survey's link.
    head, _, mac = item["link"].rsplit("/", 1)[1].split(".")
    assert (await client.get(f"/survey/{head}.{int(future.timestamp())}.{mac}")).status_code == 404
    assert (await client.get(f"{SURVEYS}/{item['id']}", headers=auth("agent"))).json()["status"] == "issued"


async def test_bad_answers_are_refused_and_store_nothing(
    client: httpx.AsyncClient, settings: IncidentSettings, auth: Callable[..., dict[str, str]]
) -> None:
    person = f"kim-{uuid.uuid4().hex[:6]}"
    _, resolved = await resolve_incident(client, auth, person)
    await consume(settings, resolved)
    item = await my_survey(client, auth, person)
    bad: list[dict[str, str]] = [
        {"score": "6"},
        {"score": "0"},
        {"score": "x"},
        {},
        {"score": "4", "comment": "x" * 2001},
    ]
    for body in [*bad, {"score": "4", "comment": "a\x00b"}]:
        r = await client.post(item["link"], data=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"/survey/{'a' * 121}")).status_code == 422
    assert (await client.get(f"{SURVEYS}/{item['id']}", headers=auth("agent"))).json()["status"] == "issued"
    assert (await client.get(SURVEYS, params={"limit": 1000}, headers=auth("agent"))).status_code == 422
    assert (await client.get(SURVEYS, params={"status": "lost"}, headers=auth("agent"))).status_code == 422


async def test_a_requester_lists_only_their_own_surveys(
    client: httpx.AsyncClient, settings: IncidentSettings, auth: Callable[..., dict[str, str]]
) -> None:
    person = f"lee-{uuid.uuid4().hex[:6]}"
    _, resolved = await resolve_incident(client, auth, person)
    await consume(settings, resolved)
    other = await client.get(SURVEYS, params={"respondent": "someone-else"}, headers=auth("requester", subject=person))
    assert other.json()["total"] == 0
    assert (await my_survey(client, auth, person))["respondent"] == person
    assert (await client.get(SURVEYS, headers=auth("monitoring"))).status_code == 403


async def test_a_campaign_surveys_a_representative_sample_and_keeps_the_evidence(
    servers: Servers, make_settings: Callable[..., Any], auth: Callable[..., dict[str, str]]
) -> None:
    database = await create_service_database(servers, "incident", label="survey_campaign")
    agent, slm = auth("agent", subject="ann"), auth("service_level_manager", subject="sue")
    mail, payroll = uuid.uuid4(), uuid.uuid4()
    async with running(create_app(_settings(make_settings, database))) as client:
        # c1 raised on Mail, then on Payroll (its latest: Payroll); c2, c3 on Mail; c4 on Payroll.
        for caller, service in (("c1", mail), ("c2", mail), ("c3", mail), ("c4", payroll), ("c1", payroll)):
            body = {"title": "Slow", "caller": caller, "impact": 3, "urgency": 3, "service_id": str(service)}
            assert (await client.post(INCIDENTS, json=body, headers=agent)).status_code == 201

        launch = {"title": "Q4 satisfaction", "frame_days": 1, "sample_size": 2, "seed": "q4"}
        r = await client.post("/api/v1/survey-campaigns", json=launch, headers=slm)
        assert r.status_code == 201, r.text
        campaign = r.json()
        assert campaign["number"].startswith("SVC") and campaign["surveys"] == 2 and campaign["launched_by"] == "sue"
        evidence = campaign["evidence"]
        assert (evidence["seed"], evidence["population"], evidence["sampled"]) == ("q4", 4, 2)
        assert evidence["strata"] == {
            str(mail): {"population": 2, "sampled": 1},
            str(payroll): {"population": 2, "sampled": 1},
        }
        assert evidence["excluded_recently_surveyed"] == 0 and len(evidence["population_sha256"]) == 64
        assert r.headers["location"] == f"/api/v1/survey-campaigns/{campaign['id']}"
        assert (await client.get(r.headers["location"], headers=agent)).json() == campaign
        listed = (await client.get("/api/v1/survey-campaigns", headers=agent)).json()
        assert [c["id"] for c in listed["items"]] == [campaign["id"]]

        issued = (await client.get(SURVEYS, params={"ticket_id": campaign["id"]}, headers=agent)).json()
        assert issued["total"] == 2
        assert {s["ticket_kind"] for s in issued["items"]} == {"campaign"}
        assert {s["ticket_number"] for s in issued["items"]} == {campaign["number"]}
        assert {s["service_id"] for s in issued["items"]} == {str(mail), str(payroll)}
        who = issued["items"][0]["respondent"]
        item = await my_survey(client, auth, who)
        page = await client.get(item["link"])
        assert page.status_code == 200 and "our services" in page.text and campaign["number"] in page.text
        assert (await client.post(item["link"], data={"score": "1"})).status_code == 200
        done = (await client.get(f"{SURVEYS}/{item['id']}", headers=agent)).json()
        found = (await client.get(f"/api/v1/complaints/{done['complaint_id']}", headers=agent)).json()
        assert found["received_via"] == "survey" and found["links"] == []  # a campaign concerns no ticket
        event = await _event(database, item["id"], "itsm.survey.issued.v1")
        assert event.data["ticket_kind"] == "campaign" and event.data["sampling_rate"] == 0.5

        # The next campaign leaves out who was just asked (the throttle), and says so.
        again = (await client.post("/api/v1/survey-campaigns", json=launch, headers=slm)).json()
        assert again["evidence"]["excluded_recently_surveyed"] == 2 and again["evidence"]["population"] == 2
        asked = {s["respondent"] for s in issued["items"]}
        second = (await client.get(SURVEYS, params={"ticket_id": again["id"]}, headers=agent)).json()["items"]
        assert asked.isdisjoint({s["respondent"] for s in second})

        for bad in ({**launch, "sample_size": 0}, {**launch, "frame_days": 0}, {**launch, "title": ""}, {}):
            assert (await client.post("/api/v1/survey-campaigns", json=bad, headers=slm)).status_code == 422
        assert (await client.post("/api/v1/survey-campaigns", json=launch, headers=agent)).status_code == 403
