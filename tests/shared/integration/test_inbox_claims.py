"""The inbox's claims on PostgreSQL and SQLite: a batch claim (one statement, the batch bound as
one JSON array) records each new id once and answers only the ids not claimed before."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import inbox
from shared.db import create_engine

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(params=["postgresql", "sqlite"])
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path, service_database: Callable[[str], Any]
) -> AsyncIterator[AsyncEngine]:
    url = (
        str(await service_database("incident"))
        if request.param == "postgresql"
        else f"sqlite+aiosqlite:///{tmp_path}/i.db"
    )
    engine = create_engine(url)
    if request.param == "sqlite":
        async with engine.begin() as conn:
            await conn.run_sync(TABLE.metadata.create_all)
    yield engine
    await engine.dispose()


TABLE = inbox.inbox_table(MetaData())


async def test_a_batch_claim_answers_the_new_ids_and_records_each_once(engine: AsyncEngine) -> None:
    consumer = f"claims-{uuid.uuid4().hex[:8]}"
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    async with engine.begin() as conn:
        assert await inbox.claim(conn, TABLE, consumer=consumer, event_id=a, event_type="t.a") is True
        fresh = await inbox.claim_many(conn, TABLE, consumer=consumer, events=[(a, "t.a"), (b, "t.b"), (c, "t.c")])
        assert fresh == {b, c}
        assert await inbox.claim_many(conn, TABLE, consumer=consumer, events=[(b, "t.b"), (c, "t.c")]) == set()
        assert await inbox.claim_many(conn, TABLE, consumer=f"{consumer}-other", events=[(b, "t.b")]) == {b}
        rows = (
            await conn.execute(select(TABLE.c.event_id, TABLE.c.event_type).where(TABLE.c.consumer == consumer))
        ).all()
        assert sorted(rows) == sorted([(a, "t.a"), (b, "t.b"), (c, "t.c")])
        await conn.rollback()
