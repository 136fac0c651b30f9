"""On SQLite (the one-machine default) a connection for reads (`shared.db.reading`) takes no write
lock: a writer on another connection goes ahead while it is open, and it reads while a writer holds
the lock. Bounded well below the 30 s busy timeout, so a lock wait fails instead of hanging."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine, reading

pytestmark = pytest.mark.asyncio(loop_scope="session")
BOUND_S = 5.0
COUNT = text("SELECT count(*) FROM note")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/locks.db")
    async with engine.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE note (text TEXT NOT NULL)")
        await conn.exec_driver_sql("INSERT INTO note VALUES ('first')")
    yield engine
    await engine.dispose()


async def _write(engine: AsyncEngine, text: str) -> None:
    async with engine.begin() as conn:
        await conn.exec_driver_sql("INSERT INTO note VALUES (?)", (text,))


async def test_a_writer_goes_ahead_while_a_read_connection_that_has_read_stays_open(engine: AsyncEngine) -> None:
    async with reading(engine) as conn:
        assert await conn.scalar(COUNT) == 1
        await asyncio.wait_for(_write(engine, "second"), BOUND_S)
        assert await conn.scalar(COUNT) == 1  # its snapshot, until its transaction ends
    async with reading(engine) as conn:
        assert await conn.scalar(COUNT) == 2


async def test_a_read_connection_reads_while_a_writer_holds_the_lock(engine: AsyncEngine) -> None:
    async with engine.begin() as writer:
        await writer.exec_driver_sql("INSERT INTO note VALUES ('pending')")

        async def read() -> int:
            async with reading(engine) as conn:
                return int(await conn.scalar(COUNT) or 0)

        assert await asyncio.wait_for(read(), BOUND_S) == 1  # the committed rows only
