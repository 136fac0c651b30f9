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
from shared.db import update_versioned
from shared.numbering import next_number

# ---------------------------------------------------------------------------- processes


def _process_row(item: OperatedProcess) -> dict[str, Any]:
    return {
        "id": item.id,
        "supplier_id": item.supplier_id,
        "process": item.process.value,
        "scope": item.scope,
        "contract_id": item.contract_id,
        "measurement": item.measurement,
        "kpis": list(item.kpis),
        "process_owner": item.process_owner,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "version": item.version,
    }


def _process(row: Any) -> OperatedProcess:
    return OperatedProcess(
        id=row.id,
        supplier_id=row.supplier_id,
        process=Process(row.process),
        scope=row.scope,
        contract_id=row.contract_id,
        measurement=row.measurement,
        kpis=tuple(row.kpis),
        process_owner=row.process_owner,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


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
    return Review(
        id=row.id,
        number=row.number,
        supplier_id=row.supplier_id,
        contract_id=row.contract_id,
        held_on=row.held_on,
        period=row.period,
        participants=tuple(row.participants),
        figures=row.figures,
        findings=row.findings,
        actions=tuple(ReviewAction(a["description"], a["owner"], date.fromisoformat(a["due_on"])) for a in row.actions),
        recorded_by=row.recorded_by,
        created_at=row.created_at,
    )


class ReviewRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        return await next_number(self._conn, "review")

    async def add(self, item: Review) -> None:
        await self._conn.execute(
            performance_review.insert().values(
                id=item.id,
                number=item.number,
                supplier_id=item.supplier_id,
                contract_id=item.contract_id,
                held_on=item.held_on,
                period=item.period,
                participants=list(item.participants),
                figures=dict(item.figures),
                findings=item.findings,
                actions=jsonable(item.actions),
                recorded_by=item.recorded_by,
                created_at=item.created_at,
            )
        )

    async def get(self, review_id: UUID) -> Review | None:
        t = performance_review
        row = (await self._conn.execute(select(t).where(t.c.id == review_id))).first()
        return _review(row) if row else None


async def reviews_of(conn: AsyncConnection, supplier_id: UUID) -> list[Review]:
    t = performance_review
    rows = await conn.execute(select(t).where(t.c.supplier_id == supplier_id).order_by(t.c.held_on.desc(), t.c.number))
    return [_review(r) for r in rows]
