"""An outside tool bound to the exchange with `#` receives a valid CloudEvent for every create."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import aio_pika
import pytest

from itsm.registry import entry
from shared.events import EVENT_TYPES, CloudEvent
from shared.messaging import declare_exchange
from tests.conftest import running
from tests.infra import Servers, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

CREATES = {
    "incident": ("/api/v1/incidents", {"title": "x", "caller": "c", "impact": 1, "urgency": 1}, "agent"),
    "change": ("/api/v1/changes", {"title": "Upgrade the mail relay", "type": "normal"}, "change_manager"),
    "config": ("/api/v1/cis", {"name": "mail-relay-01", "type": "server"}, "config_manager"),
    "supplier": ("/api/v1/suppliers", {"name": "Outside Consumer Test Ltd", "category": "network"}, "supplier_manager"),
}


async def test_an_outside_consumer_gets_a_valid_cloudevent_for_every_create_in_every_service(
    servers: Servers,
    service_database: Callable[[str], Any],
    make_settings: Callable[..., Any],
    auth: Callable[..., dict[str, str]],
) -> None:
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection, AsyncExitStack() as stack:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, servers.exchange)
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="#")

        created: dict[str, dict[str, Any]] = {}
        for service, (path, body, role) in CREATES.items():
            settings = make_settings(entry(service).settings_class, await service_database(service))
            app = importlib.import_module(f"services.{service}.app").create_app(settings)
            client = await stack.enter_async_context(running(app))
            r = await client.post(path, json=body, headers=auth(role))
            assert r.status_code == 201, r.text
            created[r.json()["id"]] = {"service": service, **r.json()}

        received: dict[str, CloudEvent] = {}

        async def all_received() -> None:
            while (message := await queue.get(no_ack=True, fail=False, timeout=5)) is not None:
                assert message.content_type == "application/cloudevents+json"
                event = CloudEvent.model_validate_json(message.body)
                assert message.message_id == str(event.id)
                assert message.routing_key == event.routing_key
                received[str(event.subject)] = event
            assert set(created) <= set(received)

        await eventually(all_received)

    for subject, record in created.items():
        event = received[subject]
        assert event.source == f"/itsm/{record['service']}"
        contract = EVENT_TYPES[event.routing_key]
        assert contract.producer == record["service"]
        assert event.routing_key.endswith(".created.v1")
        data = event.data_as(contract)  # the payload validates against the published contract
        assert getattr(data, "number") == record["number"]  # noqa: B009
