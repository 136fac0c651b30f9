"""The process register (4.2) and performance reviews: repositories and list queries."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier.domain.governance import (
    OperatedProcess,
    Process,
    Review,
    ReviewAction,
)
from services.supplier.domain.records import jsonable
from services.supplier.store.tables import operated_process, performance_review
from shared.db import record_of, row_values, update_versioned
from shared.numbering import next_number

# ---------------------------------------------------------------------------- processes


def _process_row(item: OperatedProcess) -> dict[str, Any]:
    return row_values(operated_process, item, process=item.process.value, kpis=list(item.kpis))


def _process(row: Any) -> OperatedProcess:
    return record_of(OperatedProcess, row, process=Process(row.process), kpis=tuple(row.kpis))


class ProcessRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, item: OperatedProcess) -> None:
        await self._conn.execute(operated_process.insert().values(_process_row(item)))

    async def get(self, supplier_id: UUID, process_id: UUID) -> OperatedProcess | None:
        t = operated_process
        row = (await self._conn.execute(select(t).where(t.c.id == process_id, t.c.supplier_id == supplier_id))).first()
        return _process(row) if row else None

    async def save(self, item: OperatedProcess) -> None:
        t = operated_process
        values = _process_row(item)
        del values["id"], values["supplier_id"], values["created_at"]
        await update_versioned(self._conn, t, item.id, item.version - 1, values, label="this register entry")

    async def remove(self, item: OperatedProcess) -> None:
        await self._conn.execute(delete(operated_process).where(operated_process.c.id == item.id))


async def processes_of(conn: AsyncConnection, supplier_id: UUID) -> list[OperatedProcess]:
    t = operated_process
    rows = await conn.execute(select(t).where(t.c.supplier_id == supplier_id).order_by(t.c.process, t.c.created_at))
    return [_process(r) for r in rows]


# ---------------------------------------------------------------------------- reviews


def _review(row: Any) -> Review:
    actions = tuple(ReviewAction(a["description"], a["owner"], date.fromisoformat(a["due_on"])) for a in row.actions)
    return record_of(Review, row, participants=tuple(row.participants), actions=actions)


class ReviewRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        return await next_number(self._conn, "review")

    async def add(self, item: Review) -> None:
        values = row_values(
            performance_review,
            item,
            participants=list(item.participants),
            figures=dict(item.figures),
            actions=jsonable(item.actions),
        )
        await self._conn.execute(performance_review.insert().values(values))

    async def get(self, review_id: UUID) -> Review | None:
        t = performance_review
        row = (await self._conn.execute(select(t).where(t.c.id == review_id))).first()
        return _review(row) if row else None


async def reviews_of(conn: AsyncConnection, supplier_id: UUID) -> list[Review]:
    t = performance_review
    rows = await conn.execute(select(t).where(t.c.supplier_id == supplier_id).order_by(t.c.held_on.desc(), t.c.number))
    return [_review(r) for r in rows]
