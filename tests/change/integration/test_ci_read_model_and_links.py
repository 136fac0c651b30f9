"""The change service fed by real events over RabbitMQ: config's CI events fill its CI read model
(affected CIs checked against it, services derived from it, dependent-CI conflicts walked on it),
and the incident service's links to changes show on the change and in its review."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.change.app import create_app
from services.change.settings import ChangeSettings
from services.change.store.tables import change, ci_read_model, outbox
from shared.events import EventData, new_event
from shared.events.config import Cause, ConfigItemCreated, ConfigItemRelationshipChanged, ConfigItemRetired
from shared.events.incident import IncidentLinkedToChange
from shared.messaging import BrokerConnection, EventPublisher
from tests.conftest import running
from tests.infra import Servers, create_service_database, eventually, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]
NOW = datetime.now(UTC)
CAUSE = Cause(kind="manual", actor="cmdb")


@pytest.fixture(scope="module")
async def change_db(servers: Servers) -> str:
    return await create_service_database(servers, "change", label="readmodel")


@pytest.fixture(scope="module")
def queue_prefix(servers: Servers) -> str:
    return servers.new_queue_prefix("readmodel")


@pytest.fixture
def app_with(change_db: str, queue_prefix: str, make_settings: Callable[..., Any]) -> Callable[..., Any]:
    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_settings(ChangeSettings, change_db, queue_prefix=queue_prefix, **overrides)
        async with running(create_app(settings)) as client:

            async def ready() -> None:
                assert (await client.get("/readyz")).status_code == 200

            await eventually(ready)
            yield client

    return start


@pytest.fixture
async def publish(servers: Servers) -> AsyncIterator[Callable[[EventData, str], Any]]:
    broker = BrokerConnection(servers.amqp_url, name="readmodel-test")
    broker.start()
    await asyncio.wait_for(broker.ready.wait(), 10)
    publisher = EventPublisher(broker, servers.exchange)

    async def send(data: EventData, source: str) -> None:
        await publisher.publish_event(new_event(data, source=f"/itsm/{source}", subject=str(uuid.uuid4())))

    yield send
    await broker.close()


def ci(name: str, ci_type: str = "application", service_id: uuid.UUID | None = None) -> ConfigItemCreated:
    return ConfigItemCreated(
        ci_id=uuid.uuid4(),
        number=f"CI{uuid.uuid4().int % 10**7:07d}",
        name=name,
        type=ci_type,
        status="active",
        criticality=3,
        created_at=NOW,
        service_id=service_id,
    )


def link(source: uuid.UUID, target: uuid.UUID) -> ConfigItemRelationshipChanged:
    return ConfigItemRelationshipChanged(
        relationship_id=uuid.uuid4(),
        action="added",
        source_id=source,
        type="depends_on",
        target_id=target,
        cause=CAUSE,
        occurred_at=NOW,
    )


async def _create(client: httpx.AsyncClient, auth: Auth, start: datetime, **body: Any) -> httpx.Response:
    payload = {
        "title": "Patch",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=2)).isoformat(),
        "backout_plan": "roll back",
        **body,
    }
    return await client.post("/api/v1/changes", json=payload, headers=auth("requester", subject="rita"))


async def _approved(client: httpx.AsyncClient, auth: Auth, start: datetime, cis: list[str]) -> dict[str, Any]:
    r = await _create(client, auth, start, affected_ci_ids=cis)
    assert r.status_code == 201, r.text
    item: dict[str, Any] = r.json()
    url = f"/api/v1/changes/{item['id']}"
    mike = auth("change_manager", subject="mike")
    await client.post(f"{url}/submit", headers=auth("requester", subject="rita"))
    await client.post(f"{url}/assess", json={"risk": "low"}, headers=auth("change_manager", subject="ann"))
    approved = await client.post(f"{url}/approve", headers=mike)
    assert approved.status_code == 200, approved.text
    return dict(approved.json())


async def test_affected_cis_are_checked_against_the_read_model_and_give_the_change_its_services(
    app_with: Callable[..., Any], publish: Callable[..., Any], auth: Auth, change_db: str
) -> None:
    start = datetime(2033, 5, 3, 22, tzinfo=UTC)
    stranger = str(uuid.uuid4())
    # An empty read model (a new install): strict refuses, the default tolerates.
    async with app_with(ci_check="strict") as strict:
        refused = await _create(strict, auth, start, affected_ci_ids=[stranger])
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "affected_ci_ids.0"
    async with app_with() as client:
        assert (await _create(client, auth, start, affected_ci_ids=[stranger])).status_code == 201

        payroll = ci("Payroll", "business_service")
        app, db, old = ci("payroll-app", service_id=payroll.ci_id), ci("payroll-db", "database"), ci("old-vm", "vm")
        for data in (payroll, app, db, old, link(app.ci_id, db.ci_id)):
            await publish(data, "config")
        await publish(
            ConfigItemRetired(ci_id=old.ci_id, number=old.number, version=2, cause=CAUSE, retired_at=NOW), "config"
        )

        async def known() -> None:
            # The consumer may handle these events in any order: wait for every one of them.
            for item in (payroll, app, db):
                assert await _read_model_record(change_db, item.ci_id) is not None
            record = await _read_model_record(change_db, old.ci_id)
            assert record is not None and record.retired

        await eventually(known)
        before = await row_counts(change_db, change, outbox)
        bad = await _create(
            client, auth, start, affected_ci_ids=[str(app.ci_id), stranger, str(old.ci_id)], service_ids=[stranger]
        )
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        errors = {e["field"]: e["reason"] for e in bad.json()["errors"]}
        assert set(errors) == {"affected_ci_ids.1", "affected_ci_ids.2", "service_ids.0"}
        assert "unknown" in errors["affected_ci_ids.1"] and "retired" in errors["affected_ci_ids.2"]
        assert await row_counts(change_db, change, outbox) == before

        made = await _create(client, auth, start, affected_ci_ids=[str(app.ci_id), str(db.ci_id)])
        assert made.status_code == 201, made.text
        assert made.json()["service_ids"] == [str(payroll.ci_id)]  # from payroll-app's service
        on_service = await _create(client, auth, start, affected_ci_ids=[str(payroll.ci_id)])
        assert on_service.json()["service_ids"] == [str(payroll.ci_id)]  # a service CI is its own service


async def _read_model_record(database_url: str, ci_id: uuid.UUID) -> Any:
    from shared.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await ci_read_model.get(conn, ci_id)
    finally:
        await engine.dispose()


async def test_changes_on_related_cis_conflict_as_deep_as_the_setting_says(
    app_with: Callable[..., Any], publish: Callable[..., Any], auth: Auth, change_db: str
) -> None:
    # web depends on api, api depends on db: web and db are two hops apart.
    web, api, db, other = ci("web"), ci("api"), ci("db", "database"), ci("other")
    start = datetime(2034, 2, 7, 21, tzinfo=UTC) + timedelta(minutes=uuid.uuid4().int % 1000)
    async with app_with() as client:
        for data in (web, api, db, other, link(web.ci_id, api.ci_id), link(api.ci_id, db.ci_id)):
            await publish(data, "config")

        async def linked() -> None:
            record = await _read_model_record(change_db, other.ci_id)
            assert record is not None

        await eventually(linked)
        on_web = await _approved(client, auth, start, [str(web.ci_id)])
        on_api = await _approved(client, auth, start + timedelta(hours=1), [str(api.ci_id)])
        on_db = await _approved(client, auth, start + timedelta(minutes=30), [str(db.ci_id)])
        await _approved(client, auth, start, [str(other.ci_id)])
        mike = auth("change_manager", subject="mike")
        found = (await client.get(f"/api/v1/changes/{on_web['id']}/conflicts", headers=mike)).json()
        assert [(c["kind"], c["other"], c["ci_ids"]) for c in found] == [
            ("dependent_ci", on_api["number"], [str(api.ci_id)])
        ]
    async with app_with(conflict_dependency_depth=2, conflict_dependent_ci="refuse") as deep:
        found = (await deep.get(f"/api/v1/changes/{on_web['id']}/conflicts", headers=mike)).json()
        assert sorted((c["other"], c["severity"]) for c in found) == sorted(
            [(on_api["number"], "refused"), (on_db["number"], "refused")]
        )
        refused = await deep.post(f"/api/v1/changes/{on_web['id']}/schedule", headers=mike)
        assert refused.status_code == 409
        assert "dependent_ci" in refused.json()["detail"] and on_db["number"] in refused.json()["detail"]


async def test_incidents_linked_to_a_change_show_on_it_and_in_its_review(
    app_with: Callable[..., Any], publish: Callable[..., Any], auth: Auth
) -> None:
    start = datetime.now(UTC) - timedelta(minutes=10)
    mike = auth("change_manager", subject="mike")
    async with app_with(ci_check="off") as client:
        item = await _approved(client, auth, start, [str(uuid.uuid4())])
        url = f"/api/v1/changes/{item['id']}"
        for action in ("schedule", "start", "complete"):
            assert (await client.post(f"{url}/{action}", headers=mike)).status_code == 200
        incident_id = uuid.uuid4()
        linked = IncidentLinkedToChange(
            incident_id=incident_id,
            incident_number="INC0000042",
            change_id=uuid.UUID(item["id"]),
            change_number=item["number"],
            reason="probable_cause",
            occurred_at=datetime.now(UTC),
        )
        await publish(linked, "incident")
        await publish(linked, "incident")  # the same link again (another event): still one
        unknown_change = linked.model_copy(update={"change_id": uuid.uuid4()})
        await publish(unknown_change, "incident")  # another service's change: ignored, not an error
        second = linked.model_copy(update={"incident_id": uuid.uuid4(), "incident_number": "INC0000043"})
        await publish(second, "incident")

        async def shown() -> dict[str, Any]:
            body: dict[str, Any] = (await client.get(url, headers=mike)).json()
            assert sorted(i["incident_number"] for i in body["incidents"]) == ["INC0000042", "INC0000043"]
            return body

        await eventually(shown)
        reviewed = await client.post(f"{url}/review", json={"outcome": "worked, but INC0000042 followed"}, headers=mike)
        assert reviewed.status_code == 200, reviewed.text
        assert sorted(reviewed.json()["review"]["incident_ids"]) == sorted([str(incident_id), str(second.incident_id)])
