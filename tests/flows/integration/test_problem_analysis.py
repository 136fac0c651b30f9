"""Flow 2 of the product: incidents feed problem analysis through RabbitMQ.

The incident service consumes its own incident.created.v1 and the change service's events from
the run's exchange, like any other consumer: recurring incidents open a problem, a known error's
workaround is attached to a matching new incident, an incident on a CI shortly after a change on
it is linked to the change. Real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest
from sqlalchemy import func, select

from services.incident.app import SPEC, create_app
from services.incident.settings import IncidentSettings
from services.incident.store.tables import outbox, problem, problem_incident
from services.incident.usecases import analysis as usecases_analysis
from shared.db import create_engine
from shared.events import EventData, new_event
from shared.events.change import ChangeFailed, ChangeImplemented, ChangeImplementing, PlannedCIChange
from shared.events.incident import IncidentCreated
from shared.messaging import declare_exchange
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.incident.cis import seed_ci
from tests.infra import Servers, eventually, outbox_events

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def incident_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("incident"))


@pytest.fixture
async def client(incident_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(IncidentSettings, incident_db))) as client:

        async def ready() -> None:
            assert (await client.get("/readyz")).status_code == 200

        await eventually(ready)
        yield client


async def publish(servers: Servers, data: EventData, subject: str) -> None:
    """Publish an event on the run's exchange as its producer would."""
    event = new_event(data, source=f"/itsm/{data.producer}", subject=subject)
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, servers.exchange)
        await exchange.publish(
            aio_pika.Message(
                event.model_dump_json().encode(),
                message_id=str(event.id),
                content_type="application/cloudevents+json",
            ),
            routing_key=event.routing_key,
        )


async def open_incident(client: httpx.AsyncClient, headers: dict[str, str], ci: str, title: str) -> dict[str, Any]:
    body = {"title": title, "caller": "bob", "impact": 2, "urgency": 2, "ci_id": ci}
    r = await client.post("/api/v1/incidents", json=body, headers=headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def test_three_incidents_on_one_ci_open_one_problem_and_a_known_errors_workaround_reaches_the_fourth(
    client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    agent, pm = auth("agent"), auth("problem_manager", subject="pam")
    ci = str(await seed_ci(incident_db))
    incidents = [await open_incident(client, agent, ci, f"Mail bounces #{n}") for n in range(3)]

    async def one_problem_with_the_three() -> dict[str, Any]:
        found = (await client.get("/api/v1/problems", params={"ci_id": ci}, headers=pm)).json()
        assert found["total"] == 1
        assert found["items"][0]["incident_count"] == 3
        item: dict[str, Any] = found["items"][0]
        return item

    found = await eventually(one_problem_with_the_three)
    assert found["origin"] == "recurrence"
    assert set(found["incident_ids"]) == {i["id"] for i in incidents}
    assert found["opened_by"] == "system:problem-analysis"
    for created in incidents:
        linked = (await client.get(f"/api/v1/incidents/{created['id']}", headers=agent)).json()
        assert linked["problem_number"] == found["number"]
        [event] = [e for e in await outbox_events(incident_db, outbox, created["id"]) if "linked_to_problem" in e.type]
        assert (event.data["reason"], event.data["problem_number"]) == ("recurrence", found["number"])
    assert [e.type for e in await outbox_events(incident_db, outbox, found["id"])] == ["itsm.problem.created.v1"]
    trends = (await client.get("/api/v1/problems/trends", params={"days": 1, "limit": 100}, headers=agent)).json()
    assert {"ci_id": ci, "incidents": 3} in trends["cis"]

    url = f"/api/v1/problems/{found['id']}"
    assert (await client.post(f"{url}/investigate", headers=pm)).status_code == 200
    published = await client.post(
        f"{url}/known-error",
        json={"root_cause": "The relay's queue fills up", "workaround": "Flush the relay queue (postqueue -f)"},
        headers=pm,
    )
    assert published.status_code == 200, published.text

    fourth = await open_incident(client, agent, ci, "Mail bounces again")

    async def workaround_attached() -> dict[str, Any]:
        read: dict[str, Any] = (await client.get(f"/api/v1/incidents/{fourth['id']}", headers=agent)).json()
        assert read["workaround"] == "Flush the relay queue (postqueue -f)"
        return read

    attached = await eventually(workaround_attached)
    assert attached["known_error_id"] == published.json()["known_error_id"]
    assert attached["problem_number"] == found["number"]
    [linked_event] = [e for e in await outbox_events(incident_db, outbox, fourth["id"]) if "linked_to" in e.type]
    assert linked_event.type == "itsm.incident.linked_to_problem.v1"
    assert linked_event.data["reason"] == "known_error" and linked_event.data["known_error"] is True
    assert linked_event.data["workaround"] == "Flush the relay queue (postqueue -f)"
    after = (await client.get(url, headers=pm)).json()
    assert after["incident_count"] == 4
    ke = (await client.get(f"/api/v1/known-errors/{after['known_error_id']}", headers=agent)).json()
    assert ke["usage_count"] == 1
    links = (await client.get(f"{url}/incidents", headers=agent)).json()
    assert [link["reason"] for link in links] == ["recurrence"] * 3 + ["known_error"]


async def test_incidents_on_one_service_and_category_recur_from_events_alone_and_redelivery_changes_nothing(
    servers: Servers, client: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    service = uuid.uuid4()
    now = datetime.now(UTC)
    events = [
        IncidentCreated(
            incident_id=uuid.uuid4(),
            number=f"INC9{n:06d}",
            title="Cannot print",
            impact=3,
            urgency=3,
            priority=5,
            caller="c",
            opened_at=now - timedelta(hours=n),
            service_id=service,
            category="Printing",
        )
        for n in range(3)
    ]
    first = new_event(events[0], source="/itsm/incident", subject=str(events[0].incident_id))
    for data in events:
        await publish(servers, data, str(data.incident_id))
    # The same event twice more (same id): the inbox makes it a no-op.
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        exchange = await declare_exchange(await connection.channel(), servers.exchange)
        for _ in range(2):
            await exchange.publish(
                aio_pika.Message(first.model_dump_json().encode(), message_id=str(first.id)),
                routing_key=first.routing_key,
            )
    pm = auth("problem_manager")

    async def recurring() -> dict[str, Any]:
        found = (
            await client.get(
                "/api/v1/problems", params={"service_id": str(service), "category": "printing"}, headers=pm
            )
        ).json()
        assert found["total"] == 1 and found["items"][0]["incident_count"] == 3
        item: dict[str, Any] = found["items"][0]
        return item

    found = await eventually(recurring)
    assert found["category"] == "Printing" and found["ci_id"] is None
    assert "category 'Printing'" in found["title"]
    trends = (await client.get("/api/v1/problems/trends", params={"days": 2, "limit": 100}, headers=pm)).json()
    assert {"category": "Printing", "service_id": str(service), "incidents": 3} in trends["categories"]


async def test_a_change_implemented_on_a_ci_is_linked_as_probable_cause_of_an_incident_on_it(
    servers: Servers, client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    agent = auth("agent")
    ci = await seed_ci(incident_db)
    change = ChangeImplemented(
        change_id=uuid.uuid4(),
        number="CHG0000777",
        implemented_at=datetime.now(UTC) - timedelta(minutes=30),
        implemented_by="ops",
        # the CI named only in the planned CI changes, as config applies them
        ci_changes=[PlannedCIChange(action="update", ci_id=ci, attributes={"product_version": "2.0"})],
    )
    await publish(servers, change, str(change.change_id))
    # The change event first: a marker incident on another CI shows the queue has moved past it.
    marker = await open_incident(client, agent, str(await seed_ci(incident_db)), "marker")

    async def marker_consumed() -> None:
        r = await client.get("/api/v1/problems/trends", params={"days": 1, "limit": 100}, headers=agent)
        assert {"ci_id": marker["ci_id"], "incidents": 1} in r.json()["cis"]

    await eventually(marker_consumed)
    created = await open_incident(client, agent, str(ci), "App errors since this morning")

    async def linked() -> dict[str, Any]:
        read: dict[str, Any] = (await client.get(f"/api/v1/incidents/{created['id']}", headers=agent)).json()
        assert read["caused_by_change_number"] == "CHG0000777"
        return read

    read = await eventually(linked)
    assert read["caused_by_change_id"] == str(change.change_id)
    [event] = [e for e in await outbox_events(incident_db, outbox, created["id"]) if "linked_to_change" in e.type]
    assert event.data["reason"] == "probable_cause" and event.data["change_number"] == "CHG0000777"
    assert event.data["ci_id"] == str(ci)
    links = (await client.get(f"/api/v1/incidents/{created['id']}/change-links", headers=agent)).json()
    assert [link["change_number"] for link in links] == ["CHG0000777"]


async def test_a_failed_change_arriving_after_the_incident_is_linked_too_and_one_outside_the_window_is_not(
    servers: Servers, client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    agent = auth("agent")
    ci = await seed_ci(incident_db)
    created = await open_incident(client, agent, str(ci), "Login fails")

    async def fact_recorded() -> None:
        r = await client.get("/api/v1/problems/trends", params={"days": 1, "limit": 100}, headers=agent)
        assert {"ci_id": str(ci), "incidents": 1} in r.json()["cis"]

    await eventually(fact_recorded)
    common = {"type": "normal", "previous_status": "implementing", "actor": "ops", "affected_ci_ids": [ci]}
    too_old = ChangeFailed(
        change_id=uuid.uuid4(),
        number="CHG0000001",
        status="failed",
        occurred_at=datetime.now(UTC) - timedelta(days=3),
        notes="backed out",
        **common,
    )
    recent = ChangeFailed(
        change_id=uuid.uuid4(),
        number="CHG0000002",
        status="failed",
        occurred_at=datetime.now(UTC) - timedelta(minutes=5),
        notes="backed out",
        **common,
    )
    await publish(servers, too_old, str(too_old.change_id))
    await publish(servers, recent, str(recent.change_id))

    async def linked() -> None:
        read = (await client.get(f"/api/v1/incidents/{created['id']}", headers=agent)).json()
        assert read["caused_by_change_number"] == "CHG0000002"

    await eventually(linked)
    links = (await client.get(f"/api/v1/incidents/{created['id']}/change-links", headers=agent)).json()
    assert [link["change_number"] for link in links] == ["CHG0000002"]
    events = [e for e in await outbox_events(incident_db, outbox, created["id"]) if "linked_to_change" in e.type]
    assert len(events) == 1


async def test_two_consumers_handling_incidents_of_one_cluster_at_once_open_a_single_problem(
    incident_db: str, make_settings: Callable[..., Any]
) -> None:
    """Two units of work (two connections) apply two incidents of one cluster concurrently, with
    the threshold reached by either: one problem is opened and the other incident joins it."""
    settings = make_settings(IncidentSettings, incident_db, problem_recurrence_threshold=2)
    engine = create_engine(incident_db)
    ci = uuid.uuid4()

    def created(n: int) -> IncidentCreated:
        return IncidentCreated(
            incident_id=uuid.uuid4(),
            number=f"INC8{n:06d}",
            title="t",
            impact=3,
            urgency=3,
            priority=5,
            caller="c",
            opened_at=datetime.now(UTC),
            ci_id=ci,
        )

    async def handle(data: IncidentCreated) -> None:
        uow = UnitOfWork(engine, SPEC.outbox, source="/itsm/incident", settings=settings)
        async with uow:
            await usecases_analysis.on_incident_created(data, uow)
            await uow.commit()

    try:
        for _ in range(5):  # several rounds: a race that a lock did not close shows up in one of them
            ci = uuid.uuid4()
            await handle(created(0))
            await asyncio.gather(handle(created(1)), handle(created(2)))
            async with engine.connect() as conn:
                problems = (await conn.execute(select(problem.c.id).where(problem.c.ci_id == ci))).all()
                assert len(problems) == 1
                linked = await conn.scalar(
                    select(func.count())
                    .select_from(problem_incident)
                    .where(problem_incident.c.problem_id == problems[0].id)
                )
                assert linked == 3
    finally:
        await engine.dispose()


async def test_a_recurrence_problem_is_titled_with_the_name_of_its_ci(
    incident_db: str, make_settings: Callable[..., Any]
) -> None:
    settings = make_settings(IncidentSettings, incident_db, problem_recurrence_threshold=2)
    name = f"mail-relay-{uuid.uuid4().hex[:6]}"
    ci = await seed_ci(incident_db, name=name)
    engine = create_engine(incident_db)
    try:
        for n in range(2):
            data = IncidentCreated(
                incident_id=uuid.uuid4(), number=f"INC7{n:06d}", title="Mail bounces", impact=3, urgency=3,
                priority=5, caller="c", opened_at=datetime.now(UTC), ci_id=ci,
            )  # fmt: skip
            async with UnitOfWork(engine, SPEC.outbox, source="/itsm/incident", settings=settings) as uow:
                await usecases_analysis.on_incident_created(data, uow)
                await uow.commit()
        async with engine.connect() as conn:
            [row] = (
                await conn.execute(select(problem.c.title, problem.c.description).where(problem.c.ci_id == ci))
            ).all()
    finally:
        await engine.dispose()
    assert row.title == f"Recurring incidents: 2 on CI {name} within 7 days"
    assert f"were opened on CI {name} within" in row.description and str(ci) not in row.title


async def test_a_change_in_implementation_is_recorded_for_alerts_and_closed_when_implemented(
    servers: Servers, client: httpx.AsyncClient, auth: Callable[..., dict[str, str]], incident_db: str
) -> None:
    ci = await seed_ci(incident_db)
    now = datetime.now(UTC)
    implementing = ChangeImplementing(
        change_id=uuid.uuid4(),
        number="CHG0000900",
        type="normal",
        status="implementing",
        previous_status="scheduled",
        actor="ops",
        occurred_at=now,
        affected_ci_ids=[ci],
        planned_start=now - timedelta(minutes=10),
        planned_end=now + timedelta(hours=1),
    )
    await publish(servers, implementing, str(implementing.change_id))
    monitoring = auth("monitoring", subject="alertmanager")

    def firing(fingerprint: str) -> dict[str, Any]:
        return {
            "version": "4",
            "status": "firing",
            "receiver": "itsm",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "InstanceDown", "severity": "critical", "ci_id": str(ci)},
                    "annotations": {"summary": "app01 down"},
                    "startsAt": now.isoformat(),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "",
                    "fingerprint": fingerprint,
                }
            ],
        }

    async def annotated() -> dict[str, Any]:
        r = await client.post("/api/v1/alerts/alertmanager", json=firing(uuid.uuid4().hex[:16]), headers=monitoring)
        result: dict[str, Any] = r.json()["results"][0]
        assert result["change_number"] == "CHG0000900"
        return result

    result = await eventually(annotated)
    during = (await client.get(f"/api/v1/incidents/{result['incident_id']}", headers=auth("agent"))).json()
    assert during["urgency"] == 3 and during["priority"] == 4  # severity critical lowered by the policy
    assert "CHG0000900" in during["description"]

    done = ChangeImplemented(
        change_id=implementing.change_id,
        number="CHG0000900",
        implemented_at=datetime.now(UTC),
        implemented_by="ops",
        affected_ci_ids=[ci],
    )
    await publish(servers, done, str(done.change_id))

    async def window_closed() -> dict[str, Any]:
        r = await client.post("/api/v1/alerts/alertmanager", json=firing(uuid.uuid4().hex[:16]), headers=monitoring)
        after: dict[str, Any] = r.json()["results"][0]
        assert after["change_number"] is None
        return after

    after = await eventually(window_closed)
    outside = (await client.get(f"/api/v1/incidents/{after['incident_id']}", headers=auth("agent"))).json()
    assert outside["urgency"] == 1 and outside["priority"] == 2

    async def caused_by_the_change() -> None:
        read = (await client.get(f"/api/v1/incidents/{after['incident_id']}", headers=auth("agent"))).json()
        assert read["caused_by_change_number"] == "CHG0000900"

    await eventually(caused_by_the_change)  # implemented now, it is the probable cause of what follows on the CI
