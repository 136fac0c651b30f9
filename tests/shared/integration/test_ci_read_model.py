"""The shared CI read model against a real PostgreSQL: it only moves forward, relationships follow."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.supplier.store.tables import outbox
from shared.ci_read_model import CIReadModel
from shared.db import create_engine, make_metadata
from shared.events import EventData, new_event
from shared.events.config import (
    Cause,
    ConfigItemCreated,
    ConfigItemRelationshipChanged,
    ConfigItemRetired,
    ConfigItemUpdated,
    Identifiers,
)
from shared.uow import UnitOfWork
from tests.infra import Servers, create_service_database

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
CAUSE = Cause(kind="manual", actor="tester")


@pytest.fixture
async def setup(servers: Servers) -> AsyncIterator[tuple[AsyncEngine, CIReadModel]]:
    url = await create_service_database(servers, "supplier", label=f"cirm{uuid.uuid4().hex[:6]}")
    engine = create_engine(url)
    model = CIReadModel(make_metadata())
    async with engine.begin() as conn:
        await conn.run_sync(model.cis.metadata.create_all)
    yield engine, model
    await engine.dispose()


async def deliver(engine: AsyncEngine, model: CIReadModel, data: EventData) -> None:
    event = new_event(data, source="/itsm/config", subject="ci")
    async with UnitOfWork(engine, outbox, source="/itsm/test") as uow:
        await model.handlers[data.routing_key](event, uow)
        await uow.commit()


def updated(ci_id: uuid.UUID, version: int, *, name: str, criticality: int) -> ConfigItemUpdated:
    return ConfigItemUpdated(
        ci_id=ci_id, number="CI0000001", name=name, type="server", status="in_service", criticality=criticality,
        version=version, changes={"name": {"old": "?", "new": name}}, cause=CAUSE, updated_at=NOW,
    )  # fmt: skip


async def test_a_stale_update_never_undoes_a_newer_one(setup: tuple[AsyncEngine, CIReadModel]) -> None:
    engine, model = setup
    ci_id, service_id = uuid.uuid4(), uuid.uuid4()
    created = ConfigItemCreated(
        ci_id=ci_id, number="CI0000001", name="db-01", type="server", status="in_service", criticality=2,
        created_at=NOW, service_id=service_id,
    )  # fmt: skip
    await deliver(engine, model, created)
    await deliver(engine, model, updated(ci_id, 3, name="db-01b", criticality=1))
    await deliver(engine, model, updated(ci_id, 2, name="stale", criticality=4))  # arrives late

    async with engine.connect() as conn:
        record = await model.get(conn, ci_id)
    assert record is not None
    assert (record.name, record.criticality, record.version) == ("db-01b", 1, 3)

    await deliver(
        engine, model, ConfigItemRetired(ci_id=ci_id, number="CI0000001", version=4, cause=CAUSE, retired_at=NOW)
    )
    async with engine.connect() as conn:
        record = await model.get(conn, ci_id)
        unknown = await model.get(conn, uuid.uuid4())
    assert record is not None and record.retired and record.version == 4
    assert unknown is None


async def test_relationships_are_added_and_removed(setup: tuple[AsyncEngine, CIReadModel]) -> None:
    engine, model = setup
    app, db, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rel_id = uuid.uuid4()

    def change(action: str) -> ConfigItemRelationshipChanged:
        return ConfigItemRelationshipChanged(
            relationship_id=rel_id, action=action, source_id=app, type="depends_on", target_id=db,  # type: ignore[arg-type]
            cause=CAUSE, occurred_at=NOW,
        )  # fmt: skip

    await deliver(engine, model, change("added"))
    await deliver(engine, model, change("added"))  # a redelivery keeps one row
    async with engine.connect() as conn:
        assert await model.neighbours(conn, [db]) == {(app, db)}
        assert await model.neighbours(conn, [other]) == set()
    await deliver(engine, model, change("removed"))
    async with engine.connect() as conn:
        assert await model.neighbours(conn, [app, db]) == set()


async def test_a_ci_is_called_by_its_number_name_or_identifiers_kept_from_the_events(
    setup: tuple[AsyncEngine, CIReadModel],
) -> None:
    engine, model = setup
    ci_id = uuid.uuid4()
    created = ConfigItemCreated(
        ci_id=ci_id, number="CI0000042", name="Checkout DB", type="database", status="live", criticality=2,
        created_at=NOW, identifiers=Identifiers(serial="SN-42", hostname="DB01", fqdn="db01.Shop.example"),
    )  # fmt: skip
    await deliver(engine, model, created)
    await deliver(engine, model, updated(ci_id, 2, name="Checkout DB", criticality=1))  # no identifiers: kept
    async with engine.connect() as conn:
        record = await model.get(conn, ci_id)
        assert record is not None and (record.hostname, record.fqdn, record.serial) == (
            "db01", "db01.shop.example", "SN-42",
        )  # fmt: skip
        for reference in ("ci0000001", "checkout db", "DB01", "db01.shop.example", "SN-42"):
            assert [r.id for r in await model.called(conn, reference)] == [ci_id], reference
        assert await model.called(conn, "sn-42") == []  # a serial is exact
