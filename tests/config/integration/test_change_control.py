"""Change control through real RabbitMQ: config applies an implemented change's planned CI
changes all or none, and says so with config.change_applied.v1 or config.change_rejected.v1."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx
import pytest
from aio_pika.abc import AbstractQueue

from services.config.app import create_app
from services.config.settings import ConfigSettings
from services.config.store.tables import ci_relationship, ci_version, config_item
from shared.events import CloudEvent, new_event
from shared.events.change import ChangeImplemented, PlannedCIChange, RelationshipRef
from shared.messaging import declare_exchange
from tests.conftest import running
from tests.infra import Servers, eventually, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def config(
    service_database: Callable[[str], Any], make_settings: Callable[..., Any]
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    url = await service_database("config")
    async with running(create_app(make_settings(ConfigSettings, url))) as client:

        async def ready() -> None:
            assert (await client.get("/readyz")).status_code == 200

        await eventually(ready)
        yield client, url


@pytest.fixture
async def outcomes(servers: Servers) -> AsyncIterator[tuple[aio_pika.abc.AbstractExchange, AbstractQueue]]:
    """An outside consumer of what config publishes, and the exchange to publish change events on."""
    connection = await aio_pika.connect(servers.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await declare_exchange(channel, servers.exchange)
        queue = await channel.declare_queue(exclusive=True)
        for key in ("config.#", "ci.#"):
            await queue.bind(exchange, routing_key=key)
        yield exchange, queue


async def _publish(exchange: aio_pika.abc.AbstractExchange, data: ChangeImplemented) -> CloudEvent:
    event = new_event(data, source="/itsm/change", subject=str(data.change_id))
    await exchange.publish(
        aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.id)), routing_key=event.routing_key
    )
    return event


async def _received(queue: AbstractQueue, seen: list[CloudEvent], routing_key: str, change_number: str) -> CloudEvent:
    async def arrived() -> CloudEvent:
        while (message := await queue.get(no_ack=True, fail=False, timeout=5)) is not None:
            seen.append(CloudEvent.model_validate_json(message.body))
        found = [e for e in seen if e.routing_key == routing_key and e.data.get("change_number") == change_number]
        assert found, f"no {routing_key} yet"
        return found[0]

    return await eventually(arrived)


def _number() -> str:
    return f"CHG{uuid.uuid4().int % 10_000_000:07d}"


async def test_a_change_with_three_ci_updates_makes_three_versions_caused_by_it(
    config: tuple[httpx.AsyncClient, str], outcomes: Any, auth: Callable[..., dict[str, str]]
) -> None:
    client, _ = config
    exchange, queue = outcomes
    headers = auth("config_manager")
    cis = []
    for i in range(3):
        body = {"name": f"web-{i}-{uuid.uuid4().hex[:6]}", "type": "server", "controlled": True}
        cis.append((await client.post("/api/v1/cis", json=body, headers=headers)).json())
    number = _number()
    change = ChangeImplemented(
        change_id=uuid.uuid4(),
        number=number,
        implemented_at=datetime.now(UTC),
        implemented_by="alice",
        ci_changes=[
            PlannedCIChange(action="update", ci_id=ci["id"], attributes={"attributes": {"cpu_cores": 16}}) for ci in cis
        ],
    )
    await _publish(exchange, change)
    seen: list[CloudEvent] = []
    applied = await _received(queue, seen, "config.change_applied.v1", number)
    assert [item["ci_id"] for item in applied.data["items"]] == [ci["id"] for ci in cis]
    assert {item["version"] for item in applied.data["items"]} == {2}
    updates = [e for e in seen if e.routing_key == "ci.updated.v1" and e.data["cause"]["reference"] == number]
    assert sorted(e.subject for e in updates) == sorted(ci["id"] for ci in cis)
    for ci in cis:
        history = (await client.get(f"/api/v1/cis/{ci['id']}/history", headers=headers)).json()["items"]
        assert history[0]["version"] == 2
        assert history[0]["cause_kind"] == "change"
        assert history[0]["cause_reference"] == number
        assert history[0]["actor"] == "alice"
        assert history[0]["changes"] == {"attributes.cpu_cores": {"old": None, "new": 16}}
        touched = (await client.get(f"/api/v1/cis/{ci['id']}/changes", headers=headers)).json()
        assert [c["number"] for c in touched["applied"]] == [number]


async def test_one_invalid_item_rejects_the_whole_change_and_applies_nothing(
    config: tuple[httpx.AsyncClient, str], outcomes: Any, auth: Callable[..., dict[str, str]]
) -> None:
    client, database_url = config
    exchange, queue = outcomes
    headers = auth("config_manager")
    db = (await client.post("/api/v1/cis", json={"name": "db-x", "type": "database"}, headers=headers)).json()
    app = (await client.post("/api/v1/cis", json={"name": "app-x", "type": "application"}, headers=headers)).json()
    before = await row_counts(database_url, config_item, ci_version, ci_relationship)
    number = _number()
    change = ChangeImplemented(
        change_id=uuid.uuid4(),
        number=number,
        implemented_at=datetime.now(UTC),
        implemented_by="bob",
        ci_changes=[
            PlannedCIChange(action="create", ci={"name": "new-cache", "type": "database"}),
            PlannedCIChange(action="update", ci_id=db["id"], attributes={"attributes": {"engine": "excel"}}),
            PlannedCIChange(
                action="add_relationship",
                relationship=RelationshipRef(source_id=app["id"], type="depends_on", target_id=db["id"]),
            ),
            PlannedCIChange(action="retire", ci_id=uuid.uuid4()),
        ],
    )
    await _publish(exchange, change)
    seen: list[CloudEvent] = []
    rejected = await _received(queue, seen, "config.change_rejected.v1", number)
    assert [(e["index"], e["action"]) for e in rejected.data["errors"]] == [(1, "update"), (3, "retire")]
    assert "engine" in rejected.data["errors"][0]["reason"]
    assert "does not exist" in rejected.data["errors"][1]["reason"]
    assert await row_counts(database_url, config_item, ci_version, ci_relationship) == before
    assert not [e for e in seen if e.data.get("cause", {}).get("reference") == number]  # no ci.* event leaked
    assert (await client.get(f"/api/v1/cis/{db['id']}", headers=headers)).json()["version"] == 1


async def test_an_activated_contract_records_its_supplier_as_supporting_the_covered_cis(
    config: tuple[httpx.AsyncClient, str], outcomes: Any, auth: Callable[..., dict[str, str]]
) -> None:
    from shared.events.supplier import ContractActivated

    client, _ = config
    exchange, queue = outcomes
    headers = auth("config_manager")
    db = (await client.post("/api/v1/cis", json={"name": "db-sup", "type": "database"}, headers=headers)).json()
    supplier_id, unknown_ci = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    activated = ContractActivated(
        contract_id=uuid.uuid4(), number="CTR0000042", supplier_id=supplier_id, status="active", actor="sam",
        occurred_at=now, ci_ids=[uuid.UUID(db["id"]), unknown_ci], starts_on=now, ends_on=now,
    )  # fmt: skip
    for _ in range(2):  # two deliveries (new event ids): still one relationship
        event = new_event(activated, source="/itsm/supplier", subject=str(activated.contract_id))
        await exchange.publish(
            aio_pika.Message(event.model_dump_json().encode(), message_id=str(event.id)), routing_key=event.routing_key
        )

    async def supported() -> list[dict[str, Any]]:
        rels = (await client.get(f"/api/v1/cis/{db['id']}/relationships", headers=headers)).json()
        found = [r for r in rels if r["type"] == "supported_by"]
        assert found
        return found

    found = await eventually(supported)
    assert len(found) == 1 and found[0]["target_id"] == str(supplier_id)
    history = (await client.get(f"/api/v1/cis/{db['id']}/history", headers=headers)).json()["items"]
    assert history  # the CI itself is unchanged; the relationship names the contract below
    seen: list[CloudEvent] = []

    async def relationship_event() -> CloudEvent:
        async with queue.iterator(timeout=5) as messages:
            async for message in messages:
                async with message.process():
                    event = CloudEvent.model_validate_json(message.body)
                    if event.type == "itsm.ci.relationship_changed.v1" and event.data["source_id"] == db["id"]:
                        return event
                    seen.append(event)
        raise AssertionError("no relationship event")

    event = await relationship_event()
    assert event.data["target_kind"] == "supplier" and event.data["cause"]["reference"] == "CTR0000042"
