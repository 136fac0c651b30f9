"""Continuity (ISO/IEC 20000-1 6.3) through the event backbone: config and reporting in one process
with their own databases, real PostgreSQL and RabbitMQ. A change implemented as a major change to
the service environment (published as the change service publishes it) makes a re-test of the
plan covering its service due, and overdue in reporting's continuity report; an invocation of the
plan for a major incident appears in the significant-events report under the incident's number."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest

from services.config.app import create_app as create_config_app
from services.config.settings import ConfigSettings
from services.reporting.app import create_app as create_reporting_app
from services.reporting.settings import ReportingSettings
from shared.events import new_event
from shared.events.change import ChangeImplemented
from tests.conftest import running
from tests.infra import Servers, eventually

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
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, str]]:
    # An exchange and queues of their own (the change events below are published on it): events of
    # services on databases of their own must not wait in the run's queues for the next test.
    own = {
        "events_exchange": servers.new_exchange("continuity"),
        "queue_prefix": servers.new_queue_prefix("continuity"),
    }
    config_settings = make_settings(ConfigSettings, await service_database("config"), **own)
    reporting_settings = make_settings(ReportingSettings, await service_database("reporting"), **own)
    async with (
        running(create_config_app(config_settings)) as config,
        running(create_reporting_app(reporting_settings)) as reporting,
    ):
        await _ready(config)
        await _ready(reporting)
        yield config, reporting, own["events_exchange"]


async def _publish(servers: Servers, exchange_name: str, data: ChangeImplemented) -> None:
    """As the change service's relay publishes it."""
    event = new_event(data, source="/itsm/change", subject=str(data.change_id))
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(exchange_name)
        message = aio_pika.Message(
            event.model_dump_json().encode(), content_type="application/cloudevents+json", message_id=str(event.id)
        )
        await exchange.publish(message, routing_key=data.routing_key)


async def test_a_major_change_makes_a_retest_due_and_an_invocation_is_a_significant_event(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient, str], auth: Auth, servers: Servers
) -> None:
    config, reporting, exchange = apps
    manager, viewer = auth("config_manager", subject="continuity-lead"), auth("auditor")
    tag = uuid.uuid4().hex[:6]
    r = await config.post("/api/v1/cis", json={"name": f"Payroll {tag}", "type": "business_service"}, headers=manager)
    service = r.json()
    server = await config.post(
        "/api/v1/cis", json={"name": f"pay-{tag}", "type": "server", "service_id": service["id"]}, headers=manager
    )
    plan_body = {
        "kind": "continuity",
        "title": f"Payroll continuity {tag}",
        "service_ids": [service["id"]],
        "invocation_criteria": "Payroll down for 2 hours on a pay day",
        "invocation_authority": "Head of IT operations",
        "procedures": ["Fail over to the standby site"],
        "return_to_normal": "Fail back in the next maintenance window",
        "contacts": [{"name": "Dana Ops", "role": "Incident lead"}],
    }
    plan = (await config.post("/api/v1/continuity/plans", json=plan_body, headers=manager)).json()

    # Implemented 40 days ago as a major change to the service environment: a re-test was due 10 days ago.
    number, long_ago = f"CHG{uuid.uuid4().int % 10_000_000:07d}", datetime.now(UTC) - timedelta(days=40)
    change = ChangeImplemented(
        change_id=uuid.uuid4(),
        number=number,
        implemented_at=long_ago,
        implemented_by="mike",
        affected_ci_ids=[uuid.UUID(server.json()["id"])],
        major_environment_change=True,
    )
    await _publish(servers, exchange, change)

    async def overdue_in_reporting() -> dict[str, Any]:
        r = await reporting.get("/api/v1/reports/continuity", params={"service_id": service["id"]}, headers=viewer)
        assert r.status_code == 200, r.text
        rows = r.json()["rows"]
        assert len(rows) == 1, rows
        row = rows[0]
        assert (row["plan_id"], row["retest_change_number"], row["test_status"]) == (plan["id"], number, "overdue")
        return dict(r.json())

    report = await eventually(overdue_in_reporting)
    assert report["rows"][0]["service_names"] == f"Payroll {tag}" and report["totals"]["tests_overdue"] == 1
    assert (await config.get(f"/api/v1/continuity/plans/{plan['id']}", headers=manager)).json()["test_status"] == (
        "overdue"
    )

    incident_number = f"INC{uuid.uuid4().int % 10_000_000:07d}"
    invoked_at = datetime.now(UTC) - timedelta(hours=3)
    body = {"major_incident_number": incident_number, "reason": "Site lost", "invoked_at": invoked_at.isoformat()}
    invoked = await config.post(f"/api/v1/continuity/plans/{plan['id']}/invocations", json=body, headers=manager)
    assert invoked.status_code == 201, invoked.text
    back = {"returned_to_normal_at": (invoked_at + timedelta(hours=2)).isoformat()}
    assert (await config.post(f"{invoked.headers['Location']}/return", json=back, headers=manager)).status_code == 200

    async def significant() -> dict[str, Any]:
        params = {"service_id": service["id"]}
        r = await reporting.get("/api/v1/reports/significant-events", params=params, headers=viewer)
        assert r.status_code == 200, r.text
        events = [e for e in r.json()["rows"] if e["kind"] == "continuity_invocation"]
        assert len(events) == 1, events
        event = events[0]
        assert event["status"] == "returned_to_normal"
        return dict(event)

    event = await eventually(significant)
    assert (event["reference"], event["service_name"]) == (incident_number, f"Payroll {tag}")
    assert event["duration_hours"] == 2.0
    assert event["review_status"] == "pending"
