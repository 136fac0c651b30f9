"""Two replicas delivering at once (PostgreSQL, `FOR UPDATE SKIP LOCKED`) send each event exactly
once, in order per subject; and events published on the real broker reach a webhook receiver
through the running service (its consumer and its periodic delivery job)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import aio_pika
import pytest

from services.notify.app import create_app
from services.notify.settings import NotifySettings
from services.notify.usecases import deliveries
from shared.db import create_engine
from shared.events import CloudEvent
from shared.messaging import declare_exchange
from tests.conftest import running
from tests.infra import Servers, eventually
from tests.notify.helpers import FAST_RETRIES, Notify, event
from tests.notify.receiver import Receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")

EVENTS, SUBJECTS = 300, 20


async def test_two_replicas_deliver_every_event_exactly_once_in_order_per_subject(
    notify: Notify, hooks: Receiver
) -> None:
    sub = await notify.subscribe(hooks.url("/replicas"))
    hooks.secrets["/replicas"] = [sub.secret]
    hooks.scripts["/replicas"] = ([200] * 9 + [503]) * 20 + [200]  # now and then a failure, retried
    sent = [event("incident.updated.v1", f"INC{i % SUBJECTS}", n=i) for i in range(EVENTS)]
    await notify.consume(*sent)

    second = create_engine(notify.url)
    replicas = [notify, Notify(second, notify.url, notify.settings)]
    config = deliveries.config_of(notify.settings)
    delivered = [0, 0]

    async def replica(index: int) -> None:
        for _ in range(2000):
            result = await deliveries.deliver_due(replicas[index].unit_of_work, replace(config, max_per_pass=10))
            delivered[index] += result.delivered
            if len(hooks.accepted("/replicas")) >= EVENTS:
                return
            await asyncio.sleep(0.01 if result.delivered == 0 else 0)

    try:
        await asyncio.gather(replica(0), replica(1))
        for r in replicas:
            await deliveries.deliver_due(r.unit_of_work, config)
    finally:
        await second.dispose()

    got = hooks.accepted("/replicas")
    assert len(got) == EVENTS, "no event twice"
    assert sorted(d.event_id for d in got) == sorted(str(e.id) for e in sent)
    for s in range(SUBJECTS):
        subject = f"INC{s}"
        assert [d.event_id for d in got if d.subject == subject] == [str(e.id) for e in sent if e.subject == subject]
    assert sum(delivered) == EVENTS
    assert all(n > 0 for n in delivered), f"both replicas delivered: {delivered}"


async def publish(servers: Servers, *events: CloudEvent, exchange_name: str | None = None) -> None:
    """Publish `events` on the run's exchange (or `exchange_name`), as a service's relay does."""
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, exchange_name or servers.exchange)
        for item in events:
            message = aio_pika.Message(
                item.model_dump_json().encode(),
                message_id=str(item.id),
                content_type="application/cloudevents+json",
            )
            await exchange.publish(message, routing_key=item.routing_key)


async def test_events_from_the_broker_reach_the_receiver_through_the_running_service(
    servers: Servers,
    service_database: Callable[[str], Any],
    make_settings: Callable[..., Any],
    auth: Callable[..., dict[str, str]],
    hooks: Receiver,
) -> None:
    settings = make_settings(
        NotifySettings,
        await service_database("notify"),
        queue_prefix=servers.new_queue_prefix("notify"),
        webhook_delivery_interval_s=0.05,
        **FAST_RETRIES,
    )
    async with running(create_app(settings)) as client:

        async def consuming() -> None:
            r = await client.get("/readyz")
            assert r.status_code == 200 and r.json()["checks"]["consumer"] == "ok", r.text

        await eventually(consuming)
        subject = f"INC-{uuid.uuid4().hex[:8]}"
        r = await client.post(
            "/api/v1/webhooks/subscriptions",
            json={"url": hooks.url("/broker"), "event_pattern": "incident.*.v1", "subject_filter": subject},
            headers=auth("admin"),
        )
        assert r.status_code == 201, r.text
        hooks.secrets["/broker"] = [r.json()["secret"]]
        hooks.scripts["/broker"] = [503, 200]
        sent = [event(f"incident.step{i}.v1", subject, n=i) for i in range(5)]
        await publish(servers, *sent, event("change.created.v1", subject), event("incident.created.v1", "other"))

        async def all_arrived() -> None:
            assert len(hooks.accepted("/broker")) == len(sent)

        await eventually(all_arrived, within_s=30)
        assert [d.event_id for d in hooks.accepted("/broker")] == [str(e.id) for e in sent]
        assert hooks.refused == []
        sid = r.json()["id"]
        log = await client.get(f"/api/v1/webhooks/subscriptions/{sid}/deliveries", headers=auth("auditor"))
        assert log.json()["total"] == len(sent)
        first = next(d for d in log.json()["items"] if d["event_id"] == str(sent[0].id))
        assert first["attempts"] == 2
        detail = await client.get(f"/api/v1/webhooks/deliveries/{first['id']}", headers=auth("auditor"))
        assert [a["status_code"] for a in detail.json()["log"]] == [503, 200]
        assert detail.json()["log"][1]["response_excerpt"] == "accepted"
