"""The CI read model every service keeps from config's events does not lose a retirement that
arrives before the CI's creation (the consumer handles events in any order)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.incident.store.tables import ci_read_model, metadata, outbox
from shared.ci_read_model import RETIRED, CIUnknownYet
from shared.db import create_engine
from shared.events import new_event
from shared.events.config import Cause, ConfigItemCreated, ConfigItemRetired
from shared.uow import UnitOfWork

pytestmark = pytest.mark.asyncio(loop_scope="session")
NOW = datetime(2033, 5, 3, tzinfo=UTC)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/incident.db")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def _handle(engine: AsyncEngine, data: ConfigItemCreated | ConfigItemRetired) -> None:
    async with UnitOfWork(engine, outbox, source="/itsm/test") as uow:
        event = new_event(data, source="/itsm/config", subject=str(data.ci_id))
        await ci_read_model.handlers[data.routing_key](event, uow)
        await uow.commit()


async def test_a_retirement_before_the_creation_is_refused_for_a_retry_and_applied_after_it(
    engine: AsyncEngine,
) -> None:
    ci_id = uuid.uuid4()
    created = ConfigItemCreated(
        ci_id=ci_id, number="CI0000042", name="old-vm", type="vm", status="active", criticality=3, created_at=NOW
    )
    retired = ConfigItemRetired(
        ci_id=ci_id, number="CI0000042", version=2, cause=Cause(kind="manual", actor="cmdb"), retired_at=NOW
    )

    with pytest.raises(CIUnknownYet):  # the consumer's retry brings it back once the creation is in
        await _handle(engine, retired)
    await _handle(engine, created)
    await _handle(engine, retired)  # the retry
    async with engine.connect() as conn:
        record = await ci_read_model.get(conn, ci_id)
    assert record is not None
    assert (record.status, record.version) == (RETIRED, 2)
    await _handle(engine, retired)  # a duplicate once it is retired changes nothing and is no error
