"""The schedule's reads and writes: changes on the schedule in a window, the CIs around them, blackouts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from services.change.domain.changes import Change
from services.change.domain.maintenance import MaintenanceWindow
from services.change.domain.schedule import Blackout, Slot
from services.change.store.changes import changes_of
from services.change.store.maintenance import maintenance_windows
from services.change.store.tables import blackout_window, change, change_affected_ci, ci_read_model

ON_THE_SCHEDULE = ("approved", "scheduled", "implementing")


def _in_window(conn: AsyncConnection, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Changes on the schedule whose window overlaps [start, end). On PostgreSQL as a range
    overlap, which the GiST index `ix_change_window` (migration 0006) answers and estimates well;
    two comparisons of a year-long schedule would scan half of it."""
    on = [change.c.status.in_(ON_THE_SCHEDULE), change.c.planned_start.is_not(None), change.c.planned_end.is_not(None)]
    if conn.dialect.name == "postgresql":
        window = func.tstzrange(change.c.planned_start, change.c.planned_end)
        return [*on, window.op("&&")(func.tstzrange(start, end))]
    return [*on, change.c.planned_start < end, change.c.planned_end > start]


async def slots_between(conn: AsyncConnection, start: datetime, end: datetime) -> list[Slot]:
    """Changes on the schedule (approved, scheduled, implementing) whose window overlaps [start, end)."""
    query = select(change).where(*_in_window(conn, start, end))
    items = await changes_of(conn, (await conn.execute(query.order_by(change.c.planned_start))).all())
    return [slot_of(i) for i in items if i.planned_start and i.planned_end]


async def scheduled_changes(conn: AsyncConnection, start: datetime, end: datetime) -> list[Change]:
    query = select(change).where(*_in_window(conn, start, end))
    return await changes_of(conn, (await conn.execute(query.order_by(change.c.planned_start))).all())


def slot_of(item: Change) -> Slot:
    assert item.planned_start is not None and item.planned_end is not None
    return Slot(
        item.id,
        item.number,
        item.planned_start,
        item.planned_end,
        frozenset(item.affected_ci_ids),
        frozenset(item.service_ids),
    )


async def slots_touching(conn: AsyncConnection, ci_ids: Iterable[UUID], start: datetime, end: datetime) -> list[Slot]:
    """Changes on the schedule whose window overlaps [start, end) and that change any of these CIs;
    each slot holds only those of its CIs that are among `ci_ids` (all a conflict check compares)."""
    ids = list(set(ci_ids))
    if not ids:
        return []
    query = (
        select(change.c.id, change.c.number, change.c.planned_start, change.c.planned_end, change_affected_ci.c.ci_id)
        .join(change_affected_ci, change_affected_ci.c.change_id == change.c.id)
        .where(change_affected_ci.c.ci_id.in_(ids), *_in_window(conn, start, end))
    )
    found: dict[UUID, tuple[str, datetime, datetime, set[UUID]]] = {}
    for row in await conn.execute(query):
        found.setdefault(row.id, (row.number, row.planned_start, row.planned_end, set()))[3].add(row.ci_id)
    return [
        Slot(change_id, number, slot_start, slot_end, frozenset(cis))
        for change_id, (number, slot_start, slot_end, cis) in sorted(found.items(), key=lambda kv: kv[1][1])
    ]


async def related_cis(conn: AsyncConnection, ci_ids: Iterable[UUID], depth: int) -> dict[UUID, frozenset[UUID]]:
    """For each CI, the CIs within `depth` relationships of it in the read model, either direction
    (one query per level for all the CIs together)."""
    roots = set(ci_ids)
    adjacency: defaultdict[UUID, set[UUID]] = defaultdict(set)
    seen, frontier = set(roots), set(roots)
    for _ in range(depth):
        if not frontier:
            break
        pairs = await ci_read_model.neighbours(conn, frontier)
        reached: set[UUID] = set()
        for source, target in pairs:
            adjacency[source].add(target)
            adjacency[target].add(source)
            reached.update((source, target))
        frontier = reached - seen
        seen |= reached
    related: dict[UUID, frozenset[UUID]] = {}
    for root in roots:
        around, edge = {root}, {root}
        for _ in range(depth):
            edge = {n for c in edge for n in adjacency.get(c, ())} - around
            around |= edge
        related[root] = frozenset(around - {root})
    return related


async def blackouts_between(conn: AsyncConnection, start: datetime, end: datetime) -> list[Blackout]:
    b = blackout_window
    rows = await conn.execute(select(b).where(b.c.start < end, b.c.end > start).order_by(b.c.start))
    return [Blackout(r.id, r.name, r.start, r.end, frozenset(UUID(i) for i in r.ci_ids)) for r in rows]


async def add_blackout(conn: AsyncConnection, blackout: Blackout, *, actor: str, now: datetime) -> None:
    await conn.execute(
        blackout_window.insert().values(
            id=blackout.id,
            name=blackout.name,
            start=blackout.start,
            end=blackout.end,
            ci_ids=sorted(str(i) for i in blackout.ci_ids),
            created_by=actor,
            created_at=now,
        )
    )


async def delete_blackout(conn: AsyncConnection, blackout_id: UUID) -> bool:
    result = await conn.execute(delete(blackout_window).where(blackout_window.c.id == blackout_id))
    return bool(result.rowcount)


class ScheduleRepository:
    """What a change's window is checked against, and the blackouts written, for the use cases
    (the read queries above, on the unit of work's connection)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def related_cis(self, ci_ids: Iterable[UUID], depth: int) -> dict[UUID, frozenset[UUID]]:
        return await related_cis(self._conn, ci_ids, depth)

    async def slots_touching(self, ci_ids: Iterable[UUID], start: datetime, end: datetime) -> list[Slot]:
        return await slots_touching(self._conn, ci_ids, start, end)

    async def blackouts_between(self, start: datetime, end: datetime) -> list[Blackout]:
        return await blackouts_between(self._conn, start, end)

    async def maintenance_windows(self, service_ids: Iterable[UUID]) -> dict[UUID, list[MaintenanceWindow]]:
        return await maintenance_windows(self._conn, service_ids)

    async def add_blackout(self, blackout: Blackout, *, actor: str, now: datetime) -> None:
        await add_blackout(self._conn, blackout, actor=actor, now=now)
