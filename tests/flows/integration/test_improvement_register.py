"""The improvement register (ISO/IEC 20000-1 4.5.5) fed through the event backbone: the change,
incident and reporting services in one process with databases of their own, real PostgreSQL and
RabbitMQ. A change that fails in the change service and a complaint received in the incident
service each arrive in reporting's register as an entry naming its source record, raised by
their events; the failed change's event delivered a second time raises nothing more; SLA breaches
raise an entry when a service's breaches in a month reach the threshold the policy sets."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest

from services.change.app import create_app as create_change_app
from services.change.settings import ChangeSettings
from services.change.store.tables import outbox as change_outbox
from services.incident.app import create_app as create_incident_app
from services.incident.settings import IncidentSettings
from services.reporting.app import create_app as create_reporting_app
from services.reporting.settings import ReportingSettings
from shared.events import CloudEvent, new_event
from shared.events.incident import SlaBreached
from tests.conftest import running
from tests.infra import Servers, eventually, outbox_events

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


async def _ready(client: httpx.AsyncClient) -> None:
    async def ready() -> None:
        r = await client.get("/readyz")
        assert r.status_code == 200, r.text

    await eventually(ready)


@pytest.fixture
async def apps(
    service_database: Callable[[str], Any], make_settings: Callable[..., Any], servers: Servers
) -> AsyncIterator[dict[str, Any]]:
    # An exchange and queues of their own: these services' events must not reach the run's queues.
    own = {
        "events_exchange": servers.new_exchange("improvements"),
        "queue_prefix": servers.new_queue_prefix("improvements"),
    }
    change_db = await service_database("change")
    change_settings = make_settings(ChangeSettings, change_db, ci_check="off", **own)
    incident_settings = make_settings(IncidentSettings, await service_database("incident"), **own)
    reporting_settings = make_settings(ReportingSettings, await service_database("reporting"), **own)
    async with (
        running(create_change_app(change_settings)) as change,
        running(create_incident_app(incident_settings)) as incident,
        running(create_reporting_app(reporting_settings)) as reporting,
    ):
        for client in (change, incident, reporting):
            await _ready(client)
        yield {
            "change": change,
            "incident": incident,
            "reporting": reporting,
            "change_db": change_db,
            "exchange": own["events_exchange"],
        }


async def _publish(servers: Servers, exchange_name: str, event: CloudEvent) -> None:
    """As a service's relay publishes it."""
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(exchange_name)
        message = aio_pika.Message(
            event.model_dump_json().encode(), content_type="application/cloudevents+json", message_id=str(event.id)
        )
        await exchange.publish(message, routing_key=event.routing_key)


async def _failed_change(change: httpx.AsyncClient, auth: Auth) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=1)
    body = {
        "title": "Upgrade the payroll database",
        "justification": "end of support",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=2)).isoformat(),
        "backout_plan": "restore the snapshot",
    }
    r = await change.post("/api/v1/changes", json=body, headers=auth("requester", subject="rita"))
    assert r.status_code == 201, r.text
    item = dict(r.json())
    steps: list[tuple[str, Any, str, str]] = [
        ("submit", None, "requester", "rita"),
        ("assess", {"risk": "low"}, "change_manager", "ann"),
        ("approve", None, "change_manager", "mike"),
        ("schedule", None, "change_manager", "mike"),
        ("start", None, "change_manager", "mike"),
        ("fail", {"notes": "The migration timed out; backed out", "backed_out": True}, "change_manager", "mike"),
    ]
    for action, payload, role, subject in steps:
        r = await change.post(
            f"/api/v1/changes/{item['id']}/{action}", json=payload, headers=auth(role, subject=subject)
        )
        assert r.status_code == 200, f"{action}: {r.text}"
    return dict(r.json())


async def _register(reporting: httpx.AsyncClient, auth: Auth, **params: str) -> list[dict[str, Any]]:
    r = await reporting.get("/api/v1/improvements", params={"limit": 200, **params}, headers=auth("auditor"))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_a_failed_change_and_a_complaint_each_arrive_in_the_register_through_events(
    apps: dict[str, Any], auth: Auth, servers: Servers
) -> None:
    change, incident, reporting = apps["change"], apps["incident"], apps["reporting"]
    failed = await _failed_change(change, auth)
    assert failed["status"] == "failed"
    complaint = await incident.post(
        "/api/v1/complaints",
        json={"title": "Payslips were late again", "complainant": "carl", "relationship_manager": "rosa"},
        headers=auth("agent", subject="ann"),
    )
    assert complaint.status_code == 201, complaint.text
    cmp_number = complaint.json()["number"]

    async def both_in_the_register() -> list[dict[str, Any]]:
        ours = {failed["number"], cmp_number}  # the run's reporting database holds other tests' entries too
        entries = [e for e in await _register(reporting, auth) if e["source_ref"] in ours]
        assert {e["source"] for e in entries} == {"failed_change", "complaint"}, entries
        return entries

    entries = {e["source"]: e for e in await eventually(both_in_the_register)}
    from_change, from_complaint = entries["failed_change"], entries["complaint"]
    assert (from_change["source_ref"], from_change["kind"], from_change["owner"]) == (
        failed["number"],
        "nonconformity",
        "rita",  # the change's requester
    )
    assert from_change["description"] == "The migration timed out; backed out"
    assert (from_complaint["source_ref"], from_complaint["owner"]) == (cmp_number, "rosa")
    assert from_complaint["status"] == "raised" and from_complaint["raised_by"] == "improvement-intake"
    assert from_complaint["allowed_actions"] == ["accept", "reject", "update"]

    # The failed change's event delivered again (a relay that published it twice) raises nothing.
    [failed_event] = [
        e for e in await outbox_events(apps["change_db"], change_outbox, failed["id"]) if e.type.endswith(".failed.v1")
    ]
    await _publish(servers, apps["exchange"], failed_event)

    # The register announces its own entries: reporting logs its improvement.raised.v1 events.
    async def raised_events_logged() -> None:
        for entry in (from_change, from_complaint):
            params = {"type": "itsm.improvement.raised.v1", "subject": entry["id"]}
            r = await reporting.get("/api/v1/events", params=params, headers=auth("auditor"))
            assert r.status_code == 200, r.text
            assert [e["data"]["source_ref"] for e in r.json()["items"]] == [entry["source_ref"]]

    await eventually(raised_events_logged)
    again = await _register(reporting, auth, source="failed_change", q=failed["number"])
    assert [e["id"] for e in again] == [from_change["id"]]


async def test_sla_breaches_raise_an_entry_when_a_service_reaches_the_threshold(
    apps: dict[str, Any], auth: Auth, servers: Servers
) -> None:
    reporting = apps["reporting"]
    policy = {"sla_breach_threshold": 2, "low_score_max": 2, "default_owner": "quality-lead", "target_days": 14}
    r = await reporting.put("/api/v1/improvements/policy", json=policy, headers=auth("service_level_manager"))
    assert r.status_code == 200, r.text
    service, at = uuid.uuid4(), datetime(2026, 11, 20, 10, tzinfo=UTC)

    def breach(n: int) -> CloudEvent:
        data = SlaBreached(
            ticket_kind="incident",
            ticket_id=uuid.uuid4(),
            ticket_number=f"INC{n:07d}",
            target="resolution",
            policy_id=uuid.uuid4(),
            service_id=service,
            priority=2,
            target_business_s=3600,
            elapsed_business_s=3600,
            due_at=at,
            occurred_at=at + timedelta(hours=n),
        )
        return new_event(data, source="/itsm/incident", subject=str(data.ticket_id))

    breaches = [breach(n) for n in (1, 2, 3)]
    await _publish(servers, apps["exchange"], breaches[0])

    async def logged(event: CloudEvent) -> None:
        r = await reporting.get("/api/v1/events", params={"subject": event.subject}, headers=auth("auditor"))
        assert [e["id"] for e in r.json()["items"]] == [str(event.id)]

    async def ours() -> list[dict[str, Any]]:
        return [
            e for e in await _register(reporting, auth, source="sla_breach") if e["source_ref"].startswith(str(service))
        ]

    await eventually(lambda: logged(breaches[0]))
    assert await ours() == []  # one breach: under the threshold
    for event in breaches[1:]:
        await _publish(servers, apps["exchange"], event)

    async def raised() -> dict[str, Any]:
        await logged(breaches[2])
        [entry] = await ours()
        return entry

    entry = await eventually(raised)
    assert (entry["source_ref"], entry["owner"], entry["target_date"]) == (
        f"{service}/2026-11",
        "quality-lead",
        (breaches[1].time + timedelta(days=14)).date().isoformat(),  # raised by the second
    )
    assert entry["benefit"] == {"measure": "SLA breaches per month", "before": 2.0, "after": None}
