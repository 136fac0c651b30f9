"""The records control migration of the change service (on a scratch SQLite file): a change closed
or cancelled before it gets its last write (`updated_at`) as `closed_at`, never earlier than its
closing; one still open gets none; the migration goes down again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from services.change.store.tables import change
from shared.db import create_engine
from shared.migrations import downgrade, upgrade

pytestmark = pytest.mark.asyncio(loop_scope="session")

BEFORE = "0013"
WRITTEN = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_a_change_closed_before_the_migration_counts_from_its_last_write(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'change.db'}"
    await asyncio.to_thread(upgrade, "change", url, BEFORE)
    statuses = {uuid.uuid4(): status for status in ("closed", "cancelled", "implemented")}
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for n, (change_id, status) in enumerate(statuses.items()):
                # Only the columns the table had before (no closed_at).
                row = {"id": change_id, "number": f"CHG{n:07}", "title": "Patch", "type": "normal", "status": status}
                at = {"created_at": WRITTEN - timedelta(days=1), "updated_at": WRITTEN}
                await conn.execute(insert(change).values(**row, **at, requester="rita", version=3))
        await asyncio.to_thread(upgrade, "change", url)
        async with engine.connect() as conn:
            closed_at = dict((await conn.execute(select(change.c.id, change.c.closed_at))).tuples().all())
    finally:
        await engine.dispose()
    assert {statuses[i]: at for i, at in closed_at.items()} == {
        "closed": WRITTEN,
        "cancelled": WRITTEN,
        "implemented": None,
    }
    await asyncio.to_thread(downgrade, "change", url, BEFORE)
