"""Supplier performance measured from events through the real RabbitMQ: config's CI events fill
the supplier's read model, incident and change events count toward the contracts covering the
CIs, a late resolution publishes `supplier.target_breached.v1` once, and the lead supplier's
scorecard rolls up its sub-contractor's figures."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import httpx
import pytest
from sqlalchemy import func, select

from services.supplier.app import create_app
from services.supplier.settings import SupplierSettings
from services.supplier.store.tables import inbox, outbox
from shared.db import create_engine
from shared.events import EventData, new_event
from shared.events.change import ChangeFailed, ChangeImplemented
from shared.events.config import ConfigItemCreated
from shared.events.incident import IncidentCreated, IncidentResolved, SlaBreached
from shared.events.supplier import SupplierTargetBreached
from tests.conftest import running
from tests.infra import Servers, create_service_database, eventually, outbox_events

pytestmark = pytest.mark.asyncio(loop_scope="session")

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)  # period 2026-10
EARLIER = datetime(2026, 9, 10, 9, 0, tzinfo=UTC)  # period 2026-09, for the trend
Auth = Callable[..., dict[str, str]]


@pytest.fixture
async def supplier_db(servers: Servers) -> str:
    return await create_service_database(servers, "supplier", label="perf")


@pytest.fixture
async def supplier(
    servers: Servers, supplier_db: str, make_settings: Callable[..., Any]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(SupplierSettings, supplier_db, queue_prefix=servers.new_queue_prefix("supplierperf"))
    async with running(create_app(settings)) as client:

        async def ready() -> None:
            r = await client.get("/readyz")
            assert r.status_code == 200, r.text

        await eventually(ready)
        yield client


@pytest.fixture
async def bus(servers: Servers) -> AsyncIterator[aio_pika.abc.AbstractExchange]:
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        yield await channel.get_exchange(servers.exchange)


@pytest.fixture
async def breaches(servers: Servers) -> AsyncIterator[aio_pika.abc.AbstractQueue]:
    """What an outside consumer of `supplier.target_breached.v1` receives."""
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(await channel.get_exchange(servers.exchange), routing_key=SupplierTargetBreached.routing_key)
        yield queue


async def publish(exchange: aio_pika.abc.AbstractExchange, data: EventData, source: str, subject: str) -> str:
    event = new_event(data, source=source, subject=subject)
    await exchange.publish(
        aio_pika.Message(
            event.model_dump_json().encode(), message_id=str(event.id), content_type="application/cloudevents+json"
        ),
        routing_key=event.routing_key,
    )
    return str(event.id)


async def publish_ci(exchange: aio_pika.abc.AbstractExchange) -> str:
    ci_id = uuid.uuid4()
    data = ConfigItemCreated(
        ci_id=ci_id,
        number=f"CI{ci_id.int % 10_000_000:07d}",
        name=f"edge-router-{ci_id.hex[:4]}",
        type="network_device",
        status="operational",
        criticality=2,
        created_at=T0,
    )
    await publish(exchange, data, "/itsm/config", str(ci_id))
    return str(ci_id)


class Incidents:
    """Incident events as the incident service publishes them."""

    def __init__(self, exchange: aio_pika.abc.AbstractExchange) -> None:
        self.exchange = exchange
        self.count = 0

    async def opened(self, *, at: datetime, ci_id: str | None = None, supplier_id: str | None = None) -> dict[str, Any]:
        self.count += 1
        incident = {"id": uuid.uuid4(), "number": f"INC{uuid.uuid4().int % 10_000_000:07d}", "opened_at": at}
        data = IncidentCreated(
            incident_id=incident["id"],
            number=incident["number"],
            title=f"incident {self.count}",
            impact=2,
            urgency=2,
            priority=2,
            caller="ops",
            ci_id=uuid.UUID(ci_id) if ci_id else None,
            supplier_id=uuid.UUID(supplier_id) if supplier_id else None,
            opened_at=at,
        )
        await publish(self.exchange, data, "/itsm/incident", str(incident["id"]))
        incident["ci_id"] = data.ci_id
        return incident

    async def resolved(self, incident: dict[str, Any], *, response_min: float, resolution_min: float) -> str:
        opened: datetime = incident["opened_at"]
        data = IncidentResolved(
            incident_id=incident["id"],
            number=incident["number"],
            status="resolved",
            previous_status="in_progress",
            priority=2,
            actor="agent",
            occurred_at=opened + timedelta(minutes=resolution_min),
            ci_id=incident["ci_id"],
            resolution_code="fixed",
            opened_at=opened,
            first_response_at=opened + timedelta(minutes=response_min),
            resolved_at=opened + timedelta(minutes=resolution_min),
        )
        return await publish(self.exchange, data, "/itsm/incident", str(incident["id"]))


async def _contract(client: httpx.AsyncClient, auth: Auth, supplier_id: str, ci_id: str) -> dict[str, Any]:
    body = {
        "supplier_id": supplier_id,
        "title": "Managed WAN",
        "owner": "olga",
        "starts_on": (T0 - timedelta(days=60)).isoformat(),
        "ends_on": (datetime.now(UTC) + timedelta(days=365)).isoformat(),
        "targets": [{"priority": 2, "response_minutes": 30, "resolution_minutes": 240}],
        "availability_pct": 99.5,
        "ci_ids": [ci_id],
    }

    async def drafted() -> dict[str, Any]:  # 422 until the CI event has reached the read model
        r = await client.post("/api/v1/contracts", json=body, headers=auth("supplier_manager"))
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    contract = await eventually(drafted)
    r = await client.post(f"/api/v1/contracts/{contract['id']}/activate", headers=auth("supplier_manager"))
    assert r.status_code == 200, r.text
    return contract


async def test_incidents_on_covered_cis_make_the_scorecard_and_a_late_one_a_breach_rolled_up_to_the_lead(
    supplier: httpx.AsyncClient,
    bus: aio_pika.abc.AbstractExchange,
    breaches: aio_pika.abc.AbstractQueue,
    supplier_db: str,
    auth: Auth,
) -> None:
    manager = auth("supplier_manager")
    lead = (
        await supplier.post("/api/v1/suppliers", json={"name": "Carrier One", "category": "network"}, headers=manager)
    ).json()
    sub = (
        await supplier.post(
            "/api/v1/suppliers",
            json={"name": "Field Techs", "category": "services", "lead_supplier_id": lead["id"]},
            headers=manager,
        )
    ).json()
    assert sub["role"] == "subcontractor"
    lead_ci, sub_ci = await publish_ci(bus), await publish_ci(bus)
    lead_contract = await _contract(supplier, auth, lead["id"], lead_ci)
    sub_contract = await _contract(supplier, auth, sub["id"], sub_ci)

    incidents = Incidents(bus)
    on_time = await incidents.opened(at=T0, ci_id=lead_ci)
    late = await incidents.opened(at=T0 + timedelta(hours=1), ci_id=lead_ci)
    await incidents.opened(at=T0 + timedelta(hours=2), ci_id=lead_ci)  # still open
    await incidents.opened(at=T0 + timedelta(hours=3), supplier_id=lead["id"])  # assigned to it, no CI
    await incidents.opened(at=T0, ci_id=str(uuid.uuid4()))  # a CI no contract covers: not counted
    subs = await incidents.opened(at=T0, ci_id=sub_ci)
    last_month = await incidents.opened(at=EARLIER, ci_id=lead_ci)
    await incidents.resolved(on_time, response_min=10, resolution_min=120)
    await incidents.resolved(late, response_min=20, resolution_min=360)  # resolution target 240 min: late
    await incidents.resolved(subs, response_min=5, resolution_min=60)
    await incidents.resolved(last_month, response_min=15, resolution_min=100)
    for data in (
        ChangeImplemented(
            change_id=uuid.uuid4(),
            number="CHG0000101",
            implemented_at=T0,
            implemented_by="ivan",
            affected_ci_ids=[uuid.UUID(lead_ci)],
        ),
        ChangeFailed(
            change_id=uuid.uuid4(),
            number="CHG0000102",
            type="normal",
            status="failed",
            previous_status="implementing",
            actor="ivan",
            occurred_at=T0,
            affected_ci_ids=[uuid.UUID(sub_ci)],
            notes="backed out",
        ),
    ):
        await publish(bus, data, "/itsm/change", str(data.change_id))
    sla = SlaBreached(
        ticket_kind="incident",
        ticket_id=late["id"],
        ticket_number=late["number"],
        target="resolution",
        policy_id=uuid.uuid4(),
        priority=2,
        ci_id=uuid.UUID(lead_ci),
        target_business_s=14400,
        elapsed_business_s=14401,
        due_at=T0 + timedelta(hours=5),
        occurred_at=T0 + timedelta(hours=5),
    )
    await publish(bus, sla, "/itsm/incident", str(late["id"]))

    async def scored() -> dict[str, Any]:
        r = await supplier.get(
            f"/api/v1/suppliers/{lead['id']}/scorecard", params={"period": "2026-10"}, headers=auth("auditor")
        )
        assert r.status_code == 200, r.text
        card: dict[str, Any] = r.json()
        assert card["totals"]["incidents_resolved"] == 2 and card["totals"]["incidents_opened"] == 4
        assert card["totals"]["changes_implemented"] == 1 and card["totals"]["sla_breaches"] == 1
        assert card["rollup"]["incidents_resolved"] == 3 and card["rollup"]["changes_failed"] == 1
        return card

    card = await eventually(scored)
    [contract_card] = card["contracts"]
    assert (contract_card["contract_id"], contract_card["availability_target_pct"]) == (lead_contract["id"], 99.5)
    [p2] = contract_card["targets"]
    assert (p2["priority"], p2["response_target_s"], p2["resolution_target_s"], p2["resolved"]) == (2, 1800, 14400, 2)
    assert p2["resolution"] == {
        "measured": 2,
        "mean_s": 14400.0,  # (2 h + 6 h) / 2
        "max_s": 21600.0,
        "breaches": 1,
        "within_target_pct": 50.0,
    }
    assert (p2["response"]["mean_s"], p2["response"]["breaches"]) == (900.0, 0)
    totals = card["totals"]
    assert (totals["resolution_breaches"], totals["response_breaches"], totals["breaches"]) == (1, 0, 1)
    assert totals["change_success_rate"] == 100.0

    [subcontractor] = card["subcontractors"]
    assert (subcontractor["supplier_id"], subcontractor["lead_supplier_id"]) == (sub["id"], lead["id"])
    assert subcontractor["totals"]["incidents_resolved"] == 1 and subcontractor["totals"]["changes_failed"] == 1
    rollup = card["rollup"]
    assert (rollup["incidents_opened"], rollup["incidents_resolved"], rollup["breaches"]) == (5, 3, 1)
    assert (rollup["mean_resolution_s"], rollup["change_success_rate"]) == (10800.0, 50.0)  # (2 h + 6 h + 1 h) / 3
    assert [(t["period"], t["totals"]["incidents_resolved"]) for t in card["trend"][-2:]] == [
        ("2026-08", 0),
        ("2026-09", 1),
    ]

    sub_card = (
        await supplier.get(
            f"/api/v1/suppliers/{sub['id']}/scorecard",
            params={"period": "2026-10", "trend": 0},
            headers=auth("auditor"),
        )
    ).json()
    assert sub_card["contracts"][0]["contract_id"] == sub_contract["id"]
    assert sub_card["totals"] == sub_card["rollup"] and sub_card["subcontractors"] == []

    # One breach event, published on the bus, for the late incident and its resolution only.
    message = await breaches.get(timeout=10)
    await message.ack()
    breach = SupplierTargetBreached.model_validate(json.loads(message.body)["data"])
    assert (str(breach.incident_id), str(breach.contract_id), breach.metric) == (
        str(late["id"]),
        lead_contract["id"],
        "resolution",
    )
    assert (breach.target, breach.actual, breach.period, breach.priority) == (14400.0, 21600.0, "2026-10", 2)

    # The same resolution again (a new event id, so not the inbox's duplicate): no second breach.
    repeat = await incidents.resolved(late, response_min=20, resolution_min=360)

    async def repeat_handled() -> None:
        engine = create_engine(supplier_db)
        try:
            async with engine.connect() as conn:
                assert await conn.scalar(select(func.count()).where(inbox.c.event_id == repeat)) == 1
        finally:
            await engine.dispose()

    await eventually(repeat_handled)
    published = [
        e for e in await outbox_events(supplier_db, outbox, lead["id"]) if e.type == "itsm.supplier.target_breached.v1"
    ]
    assert len(published) == 1
