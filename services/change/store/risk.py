"""What a change's risk is judged on from this service's own records: the recent history of its CIs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.store.tables import change, change_affected_ci


async def recent_history_on(
    conn: AsyncConnection, ci_ids: Sequence[UUID], since: datetime, *, exclude: UUID
) -> tuple[int, int]:
    """(changes implemented or failed on any of these CIs since `since`, how many of them failed)."""
    if not ci_ids:
        return 0, 0
    finished = ("implemented", "failed", "reviewed", "closed")
    query = (
        select(change.c.id, change.c.failed_at)
        .distinct()
        .join(change_affected_ci, change_affected_ci.c.change_id == change.c.id)
        .where(
            change_affected_ci.c.ci_id.in_(list(ci_ids)),
            change.c.id != exclude,
            change.c.status.in_(finished),
            change.c.updated_at >= since,
        )
    )
    rows = (await conn.execute(query)).all()
    return len(rows), sum(1 for r in rows if r.failed_at is not None)
