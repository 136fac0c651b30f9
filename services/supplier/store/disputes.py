"""Disputes: the repository (with their field history) and the list query."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier.domain.disputes import Dispute, DisputeMoved, DisputeRaised, DisputeStatus
from services.supplier.store.history import Entry, write_history
from services.supplier.store.tables import dispute
from shared.db import page, record_of, row_by_id, row_values, update_versioned, where_given
from shared.numbering import next_number

DISPUTE_RECORD = "dispute"


def _dispute_row(item: Dispute) -> dict[str, Any]:
    return row_values(dispute, item, status=item.status.value)


def _dispute(row: Any) -> Dispute:
    amount = Decimal(row.amount) if row.amount is not None else None
    return record_of(Dispute, row, amount=amount, status=DisputeStatus(row.status))


class DisputeRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        return await next_number(self._conn, "dispute")

    async def add(self, item: Dispute) -> None:
        await self._conn.execute(dispute.insert().values(_dispute_row(item)))
        await self._history(item)

    async def get(self, dispute_id: UUID, *, for_update: bool = False) -> Dispute | None:
        row = await row_by_id(self._conn, dispute, dispute_id, for_update=for_update)
        return _dispute(row) if row else None

    async def save(self, item: Dispute) -> None:
        values = _dispute_row(item)
        del values["id"], values["number"], values["opened_at"], values["supplier_id"]
        await update_versioned(self._conn, dispute, item.id, item.version - 1, values, label=item.number)
        await self._history(item)

    async def _history(self, item: Dispute) -> None:
        entries = [
            Entry(e.action.value, e.actor, e.changes, e.reason)
            if isinstance(e, DisputeMoved)
            else Entry("open", e.actor, {"status": (None, DisputeStatus.OPEN.value)})
            for e in item.pending_events
            if isinstance(e, DisputeMoved | DisputeRaised)
        ]
        await write_history(self._conn, DISPUTE_RECORD, item.id, item.version, item.updated_at, entries)


async def list_disputes(
    conn: AsyncConnection, *, supplier_id: UUID | None, status: str | None, limit: int, offset: int
) -> tuple[list[Dispute], int]:
    query = where_given(select(dispute), dispute, supplier_id=supplier_id, status=status)
    rows, total = await page(conn, query, dispute.c.opened_at.desc(), dispute.c.id, limit=limit, offset=offset)
    return [_dispute(r) for r in rows], total
