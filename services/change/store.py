"""Change persistence: tables (SQLAlchemy Core), the repository and read queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, Uuid, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain import Change, ChangeStatus, ChangeType
from shared.db import UtcDateTime, make_metadata
from shared.inbox import inbox_table
from shared.numbering import next_number, number_sequence_table
from shared.outbox import outbox_table

metadata = make_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
number_sequence = number_sequence_table(metadata)

change = Table(
    "change",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("justification", Text, nullable=False, server_default=""),
    Column("type", String(20), nullable=False, index=True),
    Column("category", String(50)),
    Column("status", String(20), nullable=False, index=True),
    Column("requester", String(200), nullable=False),
    Column("planned_start", UtcDateTime),
    Column("planned_end", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

# One row per CI a change affects; indexed by CI for "which changes touch this CI".
change_affected_ci = Table(
    "change_affected_ci",
    metadata,
    Column("change_id", Uuid, ForeignKey("change.id", ondelete="CASCADE"), primary_key=True),
    Column("ci_id", Uuid, primary_key=True, index=True),
)


def _to_row(item: Change) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "title": item.title,
        "description": item.description,
        "justification": item.justification,
        "type": item.change_type.value,
        "category": item.category,
        "status": item.status.value,
        "requester": item.requester,
        "planned_start": item.planned_start,
        "planned_end": item.planned_end,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "version": item.version,
    }


def _to_domain(row: Any, affected_ci_ids: list[UUID]) -> Change:
    return Change(
        id=row.id,
        number=row.number,
        title=row.title,
        description=row.description,
        justification=row.justification,
        change_type=ChangeType(row.type),
        category=row.category,
        status=ChangeStatus(row.status),
        requester=row.requester,
        planned_start=row.planned_start,
        planned_end=row.planned_end,
        affected_ci_ids=tuple(sorted(affected_ci_ids)),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


async def _with_affected_cis(conn: AsyncConnection, rows: Sequence[Any]) -> list[Change]:
    """Domain objects for change rows, with their CIs fetched in one query for all of them."""
    if not rows:
        return []
    links = await conn.execute(
        select(change_affected_ci).where(change_affected_ci.c.change_id.in_([r.id for r in rows]))
    )
    cis: defaultdict[UUID, list[UUID]] = defaultdict(list)
    for link in links:
        cis[link.change_id].append(link.ci_id)
    return [_to_domain(r, cis[r.id]) for r in rows]


class ChangeRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        return await next_number(self._conn, "change")

    async def add(self, item: Change) -> None:
        await self._conn.execute(change.insert().values(_to_row(item)))
        if item.affected_ci_ids:
            await self._conn.execute(
                change_affected_ci.insert(), [{"change_id": item.id, "ci_id": ci} for ci in item.affected_ci_ids]
            )

    async def get(self, change_id: UUID) -> Change | None:
        rows = (await self._conn.execute(select(change).where(change.c.id == change_id))).all()
        found = await _with_affected_cis(self._conn, rows)
        return found[0] if found else None


async def get_change(conn: AsyncConnection, change_id: UUID) -> Change | None:
    return await ChangeRepository(conn).get(change_id)


async def list_changes(
    conn: AsyncConnection,
    *,
    status: str | None,
    change_type: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Change], int]:
    query = select(change)
    if status is not None:
        query = query.where(change.c.status == status)
    if change_type is not None:
        query = query.where(change.c.type == change_type)
    total = await conn.scalar(select(func.count()).select_from(query.subquery()))
    rows = await conn.execute(query.order_by(change.c.created_at.desc(), change.c.id).limit(limit).offset(offset))
    return await _with_affected_cis(conn, rows.all()), int(total or 0)
