"""The event backbone end to end in one process: incident -> outbox -> RabbitMQ -> reporting.

Real PostgreSQL and RabbitMQ; the two services run as two apps with their own databases.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind
from typer.testing import CliRunner

from itsm.cli import app as cli
from services.incident.app import create_app as create_incident_app
from services.incident.settings import IncidentSettings
from services.reporting.app import create_app as create_reporting_app
from services.reporting.settings import ReportingSettings
from shared.dlq import list_dead_letters
from shared.events import CloudEvent, new_event
from shared.events.incident import IncidentCreated
from shared.messaging import declare_exchange
from tests.conftest import running
from tests.infra import Servers, eventually
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.asyncio(loop_scope="session")

INCIDENT = {"title": "Disk full on db01", "caller": "ops", "impact": 2, "urgency": 1}


@pytest.fixture
async def reporting(
    service_database: Callable[[str], Any], make_settings: Callable[..., Any]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(ReportingSettings, await service_database("reporting"))
    async with running(create_reporting_app(settings)) as client:
        await _until_ready(client)
        yield client


@pytest.fixture
async def incident(
    service_database: Callable[[str], Any], make_settings: Callable[..., Any]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(IncidentSettings, await service_database("incident"))
    async with running(create_incident_app(settings)) as client:
        await _until_ready(client)
        yield client


async def _until_ready(client: httpx.AsyncClient) -> None:
    async def ready() -> None:
        r = await client.get("/readyz")
        assert r.status_code == 200, r.text

    await eventually(ready)


async def _events_for(reporting: httpx.AsyncClient, headers: dict[str, str], subject: str) -> list[dict[str, Any]]:
    r = await reporting.get("/api/v1/events", params={"subject": subject}, headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def _publish_raw(servers: Servers, body: bytes, routing_key: str, message_id: str) -> None:
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(servers.exchange)
        await exchange.publish(
            aio_pika.Message(body, message_id=message_id, content_type="application/cloudevents+json"),
            routing_key=routing_key,
        )


def _incident_event(number: str = "INC9999999") -> CloudEvent:
    data = IncidentCreated(
        incident_id=uuid.uuid4(),
        number=number,
        title="from a test",
        impact=3,
        urgency=3,
        priority=5,
        caller="tests",
        opened_at=datetime.now(UTC),
    )
    return new_event(data, source="/itsm/incident", subject=str(data.incident_id))


async def _settled_summary(servers: Servers, reporting: httpx.AsyncClient, headers: dict[str, str]) -> Any:
    """Reporting's incident summary once it has taken in what earlier tests left in its queue (the
    run's queue outlives the apps of a test): then one more incident counts as one more."""
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = f"{servers.queue_prefix}reporting"

        async def settled() -> Any:
            depth = (await channel.declare_queue(queue, passive=True)).declaration_result.message_count
            first = (await reporting.get("/api/v1/reports/incidents/summary", headers=headers)).json()
            await asyncio.sleep(0.3)
            second = (await reporting.get("/api/v1/reports/incidents/summary", headers=headers)).json()
            assert depth == 0 and first == second, (depth, first["total"], second["total"])
            return second

        return await eventually(settled, within_s=60)


async def test_an_incident_created_over_http_is_counted_by_reporting(
    servers: Servers, incident: httpx.AsyncClient, reporting: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    headers = auth("agent")
    before = await _settled_summary(servers, reporting, headers)
    created = (await incident.post("/api/v1/incidents", json=INCIDENT, headers=headers)).json()

    async def counted() -> dict[str, Any]:
        summary: dict[str, Any] = (await reporting.get("/api/v1/reports/incidents/summary", headers=headers)).json()
        assert summary["total"] == before["total"] + 1
        return summary

    after = await eventually(counted)
    assert after["by_priority"]["2"] == before["by_priority"]["2"] + 1
    assert after["by_status"]["new"] == before["by_status"].get("new", 0) + 1
    [logged] = await _events_for(reporting, headers, created["id"])
    assert logged["type"] == "itsm.incident.created.v1"
    assert logged["source"] == "/itsm/incident"
    assert logged["data"]["number"] == created["number"]


async def test_one_trace_runs_from_the_post_to_reportings_consumer(
    incident: httpx.AsyncClient,
    reporting: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    span_exporter: Any,
) -> None:
    headers = auth("agent")
    created = (await incident.post("/api/v1/incidents", json=INCIDENT, headers=headers)).json()

    def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[int]:
        chain = []
        while span.parent is not None and span.parent.span_id in by_id:
            chain.append(span.parent.span_id)
            span = by_id[span.parent.span_id]
        return chain

    def reporting_consumers(in_trace: list[ReadableSpan]) -> list[ReadableSpan]:
        """Consume spans whose database work is on reporting's database: the incident service
        consumes its own incident.created.v1 too (problem analysis), in the same trace."""
        by_id = {s.context.span_id: s for s in in_trace}
        return [
            c
            for c in in_trace
            if c.kind is SpanKind.CONSUMER
            and any(
                s.kind is SpanKind.CLIENT
                and c.context.span_id in ancestors(s, by_id)
                and "reporting" in str((s.attributes or {}).get("db.name", ""))
                for s in in_trace
            )
        ]

    async def consumed() -> list[ReadableSpan]:
        assert await _events_for(reporting, headers, created["id"])
        spans: list[ReadableSpan] = list(span_exporter.get_finished_spans())
        [server] = [s for s in spans if s.kind is SpanKind.SERVER and s.name == "POST /api/v1/incidents"]
        assert reporting_consumers([s for s in spans if s.context.trace_id == server.context.trace_id])
        return spans

    spans = await eventually(consumed)
    [server] = [s for s in spans if s.kind is SpanKind.SERVER and s.name == "POST /api/v1/incidents"]
    trace_id = server.context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    by_id = {s.context.span_id: s for s in in_trace}

    inserts = [s for s in in_trace if s.kind is SpanKind.CLIENT and "INSERT" in s.name.upper()]
    assert inserts, "the database insert is in the POST's trace"
    [producer] = [s for s in in_trace if s.kind is SpanKind.PRODUCER]
    [consumer] = reporting_consumers(in_trace)

    assert server.context.span_id in ancestors(inserts[0], by_id)
    assert producer.parent is not None
    assert producer.parent.span_id == server.context.span_id  # carried through the outbox row
    assert consumer.parent is not None
    assert consumer.parent.span_id == producer.context.span_id  # carried in the AMQP headers
    assert ancestors(consumer, by_id)[-1] == server.context.span_id
    consumer_db = [s for s in in_trace if s.kind is SpanKind.CLIENT and consumer.context.span_id in ancestors(s, by_id)]
    assert consumer_db, "reporting's database work is inside the consume span"


async def test_the_same_event_delivered_twice_changes_reporting_once(
    servers: Servers, reporting: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    headers = auth("auditor")
    before = (await reporting.get("/api/v1/reports/incidents/summary", headers=headers)).json()
    event = _incident_event()
    body = event.model_dump_json().encode()
    for _ in range(2):
        await _publish_raw(servers, body, event.routing_key, str(event.id))
    marker = _incident_event()  # published after both copies: once it is in, both were handled
    await _publish_raw(servers, marker.model_dump_json().encode(), marker.routing_key, str(marker.id))

    async def marker_seen() -> None:
        assert await _events_for(reporting, headers, str(marker.subject))

    await eventually(marker_seen)
    assert len(await _events_for(reporting, headers, str(event.subject))) == 1
    after = (await reporting.get("/api/v1/reports/incidents/summary", headers=headers)).json()
    assert after["total"] == before["total"] + 2  # the event once, the marker once


async def test_a_poison_message_is_dead_lettered_after_bounded_retries_and_can_be_replayed_repaired(
    servers: Servers,
    reporting: httpx.AsyncClient,
    auth: Callable[..., dict[str, str]],
    make_settings: Callable[..., Any],
    tmp_path: Path,
) -> None:
    headers = auth("auditor")
    poison_id = str(uuid.uuid4())
    broken = {"specversion": "1.0", "id": poison_id, "type": "itsm.incident.created.v1"}  # no source, time, data
    await _publish_raw(servers, json.dumps(broken).encode(), "incident.created.v1", poison_id)
    after_it = _incident_event()
    await _publish_raw(servers, after_it.model_dump_json().encode(), after_it.routing_key, str(after_it.id))

    async def later_message_processed() -> None:
        assert await _events_for(reporting, headers, str(after_it.subject))

    await eventually(later_message_processed)
    queue = servers.queue_prefix + "reporting"

    async def dead_lettered() -> None:
        letters = [x for x in await list_dead_letters(servers.amqp_url, queue) if x.message_id == poison_id]
        assert len(letters) == 1
        letter = letters[0]
        assert letter.attempts == 3  # max_delivery_attempts in the test settings
        assert "malformed event" in letter.error

    await eventually(dead_lettered)
    # Listing leaves the letter where it is.
    assert [x for x in await list_dead_letters(servers.amqp_url, queue) if x.message_id == poison_id]

    repaired = _incident_event().model_copy(update={"id": uuid.UUID(poison_id)})
    body_file = tmp_path / "repaired.json"
    body_file.write_text(repaired.model_dump_json())
    env = {
        "ITSM_AMQP_URL": servers.amqp_url,
        "REPORTING_QUEUE_PREFIX": servers.queue_prefix,
    }
    result = await _invoke_cli(["dlq", "replay", "reporting", "--id", poison_id, "--body-file", str(body_file)], env)
    assert result.exit_code == 0, result.output
    assert "replayed 1" in result.output

    async def replayed_and_processed() -> None:
        assert await _events_for(reporting, headers, str(repaired.subject))

    await eventually(replayed_and_processed)
    assert not [x for x in await list_dead_letters(servers.amqp_url, queue) if x.message_id == poison_id]


async def _invoke_cli(args: list[str], env: dict[str, str]) -> Any:
    import asyncio

    return await asyncio.to_thread(CliRunner().invoke, cli, args, env=env)


async def test_with_the_broker_unreachable_creates_succeed_and_every_event_arrives_once_after(
    servers: Servers,
    reporting: httpx.AsyncClient,
    service_database: Callable[[str], Any],
    make_settings: Callable[..., Any],
    auth: Callable[..., dict[str, str]],
) -> None:
    from sqlalchemy.engine import make_url

    broker = make_url(servers.amqp_url.replace("amqp://", "postgresql://", 1))  # only to parse host and port
    proxy = TcpProxy(broker.host or "127.0.0.1", broker.port or 5672)
    await proxy.start()
    proxied_url = servers.amqp_url.replace(f"{broker.host}:{broker.port or 5672}", f"127.0.0.1:{proxy.port}")
    if proxied_url == servers.amqp_url:  # URL without an explicit port
        proxied_url = servers.amqp_url.replace(f"@{broker.host}/", f"@127.0.0.1:{proxy.port}/")
    settings = make_settings(IncidentSettings, await service_database("incident"), amqp_url=proxied_url)
    headers = auth("agent")
    async with running(create_incident_app(settings)) as incident_client:
        await _until_ready(incident_client)
        await proxy.cut()

        async def broker_gone() -> None:
            r = await incident_client.get("/readyz")
            assert r.status_code == 503
            assert r.json()["checks"]["broker"] == "unavailable"

        await eventually(broker_gone)
        ids = []
        for i in range(20):
            r = await incident_client.post(
                "/api/v1/incidents", json={**INCIDENT, "title": f"outage {i}"}, headers=headers
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        await proxy.start()  # the broker is back

        async def all_arrived() -> None:
            for incident_id in ids:
                assert len(await _events_for(reporting, headers, incident_id)) == 1

        await eventually(all_arrived, within_s=60)
        await _until_ready(incident_client)
    await proxy.cut()


async def test_an_outside_consumer_bound_with_hash_receives_valid_cloudevents(
    servers: Servers, incident: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, servers.exchange)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="#")
        created = (await incident.post("/api/v1/incidents", json=INCIDENT, headers=auth("agent"))).json()

        async def received() -> CloudEvent:
            message = await queue.get(no_ack=True, fail=False, timeout=5)
            assert message is not None
            assert message.content_type == "application/cloudevents+json"
            event = CloudEvent.model_validate_json(message.body)
            assert event.subject == created["id"]
            assert message.message_id == str(event.id)
            return event

        event = await eventually(received)
    assert event.type == "itsm.incident.created.v1"
    assert event.specversion == "1.0"
    assert event.data_as(IncidentCreated).number == created["number"]


async def test_reporting_follows_an_incident_through_its_lifecycle(
    incident: httpx.AsyncClient, reporting: httpx.AsyncClient, auth: Callable[..., dict[str, str]]
) -> None:
    headers = auth("agent")
    created = (await incident.post("/api/v1/incidents", json=INCIDENT, headers=headers)).json()

    async def created_counted() -> None:
        assert await _events_for(reporting, headers, created["id"])

    await eventually(created_counted)
    before = (await reporting.get("/api/v1/reports/incidents/summary", headers=headers)).json()
    url = f"/api/v1/incidents/{created['id']}"
    await incident.post(f"{url}/assign", json={"assignment_group": "ops"}, headers=headers)
    ops = auth("agent", groups=("ops",))  # an agent resolves what is assigned to their group
    resolved = await incident.post(f"{url}/resolve", json={"resolution_code": "fixed"}, headers=ops)
    assert resolved.status_code == 200, resolved.text

    async def resolved_counted() -> None:
        summary = (await reporting.get("/api/v1/reports/incidents/summary", headers=headers)).json()
        assert summary["by_status"].get("resolved", 0) == before["by_status"].get("resolved", 0) + 1
        assert summary["total"] == before["total"]  # the same incident, not a new one

    await eventually(resolved_counted)
    logged = await _events_for(reporting, headers, created["id"])
    assert [e["type"] for e in logged][-1] == "itsm.incident.resolved.v1"
