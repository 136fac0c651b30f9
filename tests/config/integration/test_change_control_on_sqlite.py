"""All-or-nothing change application also holds on SQLite (the one-machine default), whose driver
needs SQLAlchemy to issue BEGIN itself for savepoints to work."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.config.store.tables import ci_version, outbox
from services.config.usecases.change_control import apply_implemented_change
from services.config.usecases.items import RegisterConfigItem, register_config_item
from shared.db import create_engine
from shared.events.change import ChangeImplemented, PlannedCIChange
from shared.migrations import upgrade
from shared.uow import UnitOfWork

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path}/config.db"
    await asyncio.to_thread(upgrade, "config", url)
    engine = create_engine(url)
    yield engine
    await engine.dispose()


def _uow(engine: AsyncEngine) -> UnitOfWork:
    return UnitOfWork(engine, outbox, source="/itsm/config")


async def _count(engine: AsyncEngine, table: object) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


async def _apply(engine: AsyncEngine, number: str, *items: PlannedCIChange) -> None:
    change = ChangeImplemented(
        change_id=uuid.uuid4(),
        number=number,
        implemented_at=datetime.now(UTC),
        implemented_by="c",
        ci_changes=list(items),
    )
    async with _uow(engine) as uow:
        await apply_implemented_change(change, uow)
        await uow.commit()


async def test_a_rejected_change_rolls_back_on_sqlite_and_an_accepted_one_commits(engine: AsyncEngine) -> None:
    item = await register_config_item(RegisterConfigItem(name="db", ci_type="database"), _uow(engine), actor="t")
    versions = await _count(engine, ci_version)
    await _apply(
        engine,
        "CHG0000001",
        PlannedCIChange(action="update", ci_id=item.id, attributes={"owner": "dba"}),
        PlannedCIChange(action="update", ci_id=item.id, attributes={"attributes": {"engine": "excel"}}),
    )
    assert await _count(engine, ci_version) == versions
    async with engine.connect() as conn:
        kinds = (await conn.scalars(select(outbox.c.routing_key).order_by(outbox.c.id))).all()
    assert kinds[-1] == "config.change_rejected.v1"

    await _apply(engine, "CHG0000002", PlannedCIChange(action="update", ci_id=item.id, attributes={"owner": "dba"}))
    assert await _count(engine, ci_version) == versions + 1
