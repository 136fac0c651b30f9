"""What the gate reads: the service's changes whose window is open, the blackouts in force."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain.gate import ActiveBlackout, OpenChange
from services.change.store.schedule import ON_THE_SCHEDULE
from services.change.store.tables import blackout_window, change, change_affected_ci, change_service


async def open_changes_for(conn: AsyncConnection, service_id: UUID, at: datetime) -> list[OpenChange]:
    """The service's changes on the schedule whose window contains `at`."""
    query = (
        select(
            change.c.id,
            change.c.number,
            change.c.status,
            change.c.planned_start,
            change.c.planned_end,
            change.c.template_id,
        )
        .join(change_service, change_service.c.change_id == change.c.id)
        .where(
            change_service.c.service_id == service_id,
            change.c.status.in_(ON_THE_SCHEDULE),
            change.c.planned_start <= at,
            change.c.planned_end > at,
        )
    )
    rows = (await conn.execute(query)).all()
    if not rows:
        return []
    links = await conn.execute(
        select(change_affected_ci).where(change_affected_ci.c.change_id.in_([r.id for r in rows]))
    )
    cis: dict[UUID, set[UUID]] = {}
    for link in links:
        cis.setdefault(link.change_id, set()).add(link.ci_id)
    return [
        OpenChange(
            r.id, r.number, r.status, r.planned_start, r.planned_end, frozenset(cis.get(r.id, set())), r.template_id
        )
        for r in rows
    ]


async def blackouts_at(conn: AsyncConnection, at: datetime) -> list[ActiveBlackout]:
    b = blackout_window
    rows = await conn.execute(select(b).where(b.c.start <= at, b.c.end > at).order_by(b.c.start))
    return [ActiveBlackout(r.id, r.name, r.start, r.end, frozenset(UUID(i) for i in r.ci_ids)) for r in rows]
