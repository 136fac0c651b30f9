"""Reporting stopped while 1,000 events are published, then started: every event counted once.

Real RabbitMQ and PostgreSQL; the consumer runs in its batching mode (the reporting default).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import pytest

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from services.reporting.store import tables as store
from shared.dlq import list_dead_letters
from shared.events import new_event
from shared.events.incident import IncidentAssigned, IncidentCreated
from shared.messaging import declare_exchange
from tests.conftest import running
from tests.infra import Servers, create_service_database, eventually, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

T0 = datetime(2026, 10, 5, tzinfo=UTC)


def _events(count: int) -> list[Any]:
    events = []
    for n in range(count // 2):
        created = IncidentCreated(
            incident_id=uuid.uuid4(), number=f"INC{n:07d}", title="t", impact=2, urgency=2, priority=1 + n % 5,
            caller="c", opened_at=T0 + timedelta(minutes=n),
        )  # fmt: skip
        events.append(new_event(created, source="/itsm/incident", subject=str(created.incident_id)))
        assigned = IncidentAssigned(
            incident_id=created.incident_id, number=created.number, status="assigned", previous_status="new",
            priority=created.priority, actor="a", occurred_at=created.opened_at + timedelta(minutes=5),
            assignment_group=f"g{n % 3}",
        )  # fmt: skip
        events.append(new_event(assigned, source="/itsm/incident", subject=str(created.incident_id)))
    return events


async def test_reporting_down_while_1000_events_are_published_counts_each_once_after_restart(
    servers: Servers, make_settings: Callable[..., Any], auth: Callable[..., dict[str, str]]
) -> None:
    url = await create_service_database(servers, "reporting", label="catchup")
    prefix = servers.new_queue_prefix("catchup")
    settings = make_settings(ReportingSettings, url, queue_prefix=prefix)
    assert settings.consumer_batch_size > 1  # the batching mode is what runs here
    async with running(create_app(settings)) as client:  # declares the queue and its bindings

        async def ready() -> None:
            assert (await client.get("/readyz")).status_code == 200

        await eventually(ready)
    # Reporting is down now. 1,000 events, 50 of them delivered twice, and one malformed message.
    events = _events(1000)
    poison_id = str(uuid.uuid4())
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_exchange(channel, servers.exchange)
        for event in [*events, *events[:50]]:
            message = aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.id))
            await exchange.publish(message, routing_key=event.routing_key)
        await exchange.publish(aio_pika.Message(b'{"id": "not an event"}', message_id=poison_id), "incident.created.v1")
        queue = await channel.declare_queue(f"{prefix}reporting", passive=True)
        assert queue.declaration_result.message_count == 1051

    app = create_app(settings)
    async with running(app) as client:
        headers = auth("auditor")

        async def all_counted() -> None:
            summary = (await client.get("/api/v1/reports/incidents/summary", headers=headers)).json()
            assert summary["total"] == 500
            assert summary["by_status"] == {"assigned": 500}

        await eventually(all_counted, within_s=60)

        async def poison_parked() -> None:
            letters = await list_dead_letters(servers.amqp_url, f"{prefix}reporting")
            assert [x.message_id for x in letters] == [poison_id]

        await eventually(poison_parked, within_s=30)
        stats = app.state.runtime.consumer.stats
        assert (stats.processed, stats.duplicates) == (1000, 50)
        report = (await client.get("/api/v1/reports/workload", headers=headers)).json()
        assert report["totals"]["incidents_opened"] == 500
        page = (await client.get("/api/v1/events", params={"limit": 1}, headers=headers)).json()
        assert page["total"] == 1000
    assert await row_counts(url, store.event_log, store.inbox, store.incident_facts) == (1000, 1000, 500)
