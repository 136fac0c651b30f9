"""CMDB store, change control: the local read model of changes (`change_window`) and the
changes that touched a CI."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.items import ChangeWindow
from services.config.store.tables import change_window, ci_version
from shared.db import record_of, upsert_statement

# Built once: SQLAlchemy compiles `insert().on_conflict_do_update()` again on every execution.
_UPSERT_WINDOW = upsert_statement(
    change_window,
    ("change_id", "number", "status", "planned_start", "planned_end", "affected_ci_ids", "updated_at"),
    key=("change_id",),
)


async def upsert_change_window(conn: AsyncConnection, window: ChangeWindow, now: datetime) -> None:
    row = {
        "change_id": window.change_id,
        "number": window.number,
        "status": window.status,
        "planned_start": window.planned_start,
        "planned_end": window.planned_end,
        "affected_ci_ids": sorted(str(i) for i in window.affected_ci_ids),
        "updated_at": now,
    }
    await conn.execute(_UPSERT_WINDOW, row)


async def change_window_by_number(conn: AsyncConnection, number: str) -> ChangeWindow | None:
    row = (await conn.execute(select(change_window).where(change_window.c.number == number))).first()
    return _window_of(row) if row is not None else None


async def open_change_windows(conn: AsyncConnection) -> list[ChangeWindow]:
    """Changes that may authorise edits (approved and not closed); the domain checks window and CIs."""
    rows = await conn.execute(select(change_window).where(change_window.c.status.in_(("approved", "implementing"))))
    return [_window_of(r) for r in rows]


def _window_of(row: Any) -> ChangeWindow:
    return record_of(ChangeWindow, row, affected_ci_ids=frozenset(UUID(i) for i in row.affected_ci_ids))


async def changes_touching(conn: AsyncConnection, ci_id: UUID) -> tuple[list[Any], list[ChangeWindow]]:
    """The changes recorded as causes of this CI's versions, and the open changes that name it."""
    applied = await conn.execute(
        select(
            ci_version.c.cause_reference.label("number"),
            func.min(ci_version.c.recorded_at).label("first"),
            func.max(ci_version.c.version).label("version"),
        )
        .where(ci_version.c.ci_id == ci_id, ci_version.c.cause_kind == "change")
        .group_by(ci_version.c.cause_reference)
        .order_by(func.min(ci_version.c.recorded_at))
    )
    planned = [w for w in await open_change_windows(conn) if ci_id in w.affected_ci_ids]
    return list(applied), planned
