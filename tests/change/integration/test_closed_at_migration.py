"""The records control migration of the change service (on a scratch SQLite file): a change or a
release closed or cancelled before it gets its last write (`updated_at`) as `closed_at`, never
earlier than its closing; one still open gets none; the migration goes down again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from services.change.store.tables import change, release
from shared.db import create_engine
from shared.migrations import downgrade, upgrade

pytestmark = pytest.mark.asyncio(loop_scope="session")

BEFORE = "0013"
WRITTEN = datetime(2026, 3, 1, 12, tzinfo=UTC)
AT = {"created_at": WRITTEN - timedelta(days=1), "updated_at": WRITTEN}


async def test_a_record_closed_before_the_migration_counts_from_its_last_write(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'change.db'}"
    await asyncio.to_thread(upgrade, "change", url, BEFORE)
    changes = {uuid.uuid4(): status for status in ("closed", "cancelled", "implemented")}
    releases = {uuid.uuid4(): status for status in ("closed", "cancelled", "deployed")}
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            # Only the columns the tables had before (no closed_at).
            for n, (change_id, status) in enumerate(changes.items()):
                row = {"id": change_id, "number": f"CHG{n:07}", "title": "Patch", "type": "normal", "status": status}
                await conn.execute(insert(change).values(**row, **AT, requester="rita", version=3))
            for n, (release_id, status) in enumerate(releases.items()):
                row = {"id": release_id, "number": f"REL{n:07}", "name": "Checkout", "version": "2.4", "type": "minor"}
                await conn.execute(insert(release).values(**row, **AT, status=status, created_by="mike", row_version=3))
        await asyncio.to_thread(upgrade, "change", url)
        async with engine.connect() as conn:
            closed_at = dict((await conn.execute(select(change.c.id, change.c.closed_at))).tuples().all())
            closed_at |= dict((await conn.execute(select(release.c.id, release.c.closed_at))).tuples().all())
    finally:
        await engine.dispose()
    assert {changes[i]: closed_at[i] for i in changes} == {"closed": WRITTEN, "cancelled": WRITTEN, "implemented": None}
    assert {releases[i]: closed_at[i] for i in releases} == {"closed": WRITTEN, "cancelled": WRITTEN, "deployed": None}
    await asyncio.to_thread(downgrade, "change", url, BEFORE)
