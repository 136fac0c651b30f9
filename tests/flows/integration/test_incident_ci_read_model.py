"""Config's CI events reach the incident service's local CI read model through the real
RabbitMQ, and new incidents follow it: impact and service from the CI, refused once retired."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx
import pytest

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from shared.events import EventData, new_event
from shared.events.config import Cause, ConfigItemCreated, ConfigItemRetired
from shared.messaging import declare_exchange
from tests.conftest import running
from tests.infra import Servers, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def incident_api(
    servers: Servers, service_database: Callable[[str], Any], make_settings: Callable[..., Any]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        IncidentSettings, await service_database("incident"), queue_prefix=servers.new_queue_prefix("cirm")
    )
    async with running(create_app(settings)) as client:

        async def consuming() -> None:
            r = await client.get("/readyz")
            assert r.status_code == 200 and r.json()["checks"]["consumer"] == "ok", r.text

        await eventually(consuming)
        yield client


async def _publish(servers: Servers, data: EventData, subject: uuid.UUID) -> None:
    event = new_event(data, source="/itsm/config", subject=str(subject))
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


async def test_a_ci_created_in_config_is_known_to_incidents_and_a_retired_one_refused(
    servers: Servers, incident_api: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    ci_id, service_id = uuid.uuid4(), uuid.uuid4()
    headers = auth("agent")
    body = {"title": "Payroll down", "caller": "bob", "urgency": 1, "ci_id": str(ci_id)}
    unknown = await incident_api.post("/api/v1/incidents", json=body, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "ci_id"

    created_at = datetime.now(UTC)
    await _publish(
        servers,
        ConfigItemCreated(
            ci_id=ci_id,
            number="CI0004711",
            name="payroll-db",
            type="database",
            status="live",
            criticality=1,
            created_at=created_at,
            service_id=service_id,
        ),
        ci_id,
    )

    async def accepted() -> dict[str, Any]:
        r = await incident_api.post("/api/v1/incidents", json=body, headers=headers)
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        return created

    incident = await eventually(accepted)
    assert (incident["impact"], incident["priority"], incident["service_id"]) == (1, 1, str(service_id))

    cause = Cause(kind="manual", actor="cmdb-admin")
    await _publish(
        servers,
        ConfigItemRetired(ci_id=ci_id, number="CI0004711", version=2, cause=cause, retired_at=created_at),
        ci_id,
    )

    async def refused() -> None:
        r = await incident_api.post("/api/v1/incidents", json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "ci_id" and "retired" in r.json()["detail"]

    await eventually(refused)
