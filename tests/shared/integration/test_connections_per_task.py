"""The watch the SQLite flow test relies on (tests/connections.py) sees a task take a second
connection while it holds one, and only that."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine, reading
from tests.connections import ConnectionsPerTask

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/watched.db")
    yield engine
    await engine.dispose()


async def test_a_task_taking_a_second_connection_while_it_holds_one_is_named(engine: AsyncEngine) -> None:
    watch = ConnectionsPerTask(engine)

    async def one_after_the_other() -> None:
        async with reading(engine) as conn:
            await conn.exec_driver_sql("SELECT 1")
        async with engine.begin() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def one_inside_the_other() -> None:
        async with reading(engine) as conn:
            await conn.exec_driver_sql("SELECT 1")
            async with engine.begin() as second:
                await second.exec_driver_sql("SELECT 1")

    await asyncio.gather(
        asyncio.create_task(one_after_the_other(), name="sequential"),
        asyncio.create_task(one_after_the_other(), name="sequential too"),
    )
    assert watch.second_checkouts == []
    await asyncio.create_task(one_inside_the_other(), name="nested")
    watch.close()
    [report] = watch.second_checkouts
    assert report.startswith("nested: ") and "one_inside_the_other" in report
