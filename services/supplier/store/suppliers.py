"""Suppliers: the repository, the hierarchy walk and list queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier.domain.suppliers import (
    MAX_HIERARCHY_DEPTH,
    Contact,
    RiskRating,
    Supplier,
    SupplierCategory,
    SupplierChanged,
    SupplierRegistered,
    SupplierStatus,
    name_key,
)
from services.supplier.store.history import Entry, write_history
from services.supplier.store.tables import supplier
from shared.db import page, record_of, row_by_id, row_values, where_given
from shared.errors import Conflict, PreconditionFailed
from shared.numbering import next_number

RECORD_TYPE = "supplier"


def _to_row(item: Supplier) -> dict[str, Any]:
    return row_values(
        supplier,
        item,
        category=item.category.value,
        status=item.status.value,
        risk_rating=item.risk_rating.value,
        contacts=[{"name": c.name, "email": c.email, "phone": c.phone, "role": c.role} for c in item.contacts],
        service_ids=[str(i) for i in item.service_ids],
        ci_ids=[str(i) for i in item.ci_ids],
    )


def _to_domain(row: Any) -> Supplier:
    return record_of(
        Supplier,
        row,
        category=SupplierCategory(row.category),
        status=SupplierStatus(row.status),
        risk_rating=RiskRating(row.risk_rating),
        contacts=tuple(Contact(**c) for c in row.contacts or ()),
        service_ids=tuple(UUID(i) for i in row.service_ids or ()),
        ci_ids=tuple(UUID(i) for i in row.ci_ids or ()),
    )


class SupplierRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        return await next_number(self._conn, "supplier")

    async def add(self, item: Supplier) -> None:
        try:
            await self._conn.execute(supplier.insert().values(_to_row(item)))
        except IntegrityError as exc:
            # Ids are random and numbers drawn once, so only the name key collides: a concurrent
            # create with the same name committed between the use case's check and this insert.
            raise Conflict(f"a supplier named {item.name!r} already exists") from exc
        await self._history(item)

    async def get(self, supplier_id: UUID, *, for_update: bool = False) -> Supplier | None:
        row = await row_by_id(self._conn, supplier, supplier_id, for_update=for_update)
        return _to_domain(row) if row else None

    async def get_by_name(self, name: str) -> Supplier | None:
        """The supplier whose name is the same as `name` once case and spacing are ignored."""
        row = (await self._conn.execute(select(supplier).where(supplier.c.name_key == name_key(name)))).first()
        return _to_domain(row) if row else None

    async def save(self, item: Supplier) -> None:
        """Write a changed supplier if nobody else did since it was read, and its field history."""
        values = _to_row(item)
        del values["id"], values["number"], values["created_at"]
        try:
            result = await self._conn.execute(
                update(supplier).where(supplier.c.id == item.id, supplier.c.version == item.version - 1).values(values)
            )
        except IntegrityError as exc:
            raise Conflict(f"a supplier named {item.name!r} already exists") from exc
        if result.rowcount != 1:
            raise PreconditionFailed(f"{item.number} was changed by someone else meanwhile; read it again")
        await self._history(item)

    async def _history(self, item: Supplier) -> None:
        entries = [
            Entry("update", e.actor, e.changes)
            if isinstance(e, SupplierChanged)
            else Entry("create", e.actor, {"status": (None, item.status.value)})
            for e in item.pending_events
            if isinstance(e, SupplierChanged | SupplierRegistered)
        ]
        await write_history(self._conn, RECORD_TYPE, item.id, item.version, item.updated_at, entries)

    async def lead_chain(self, lead_id: UUID) -> list[UUID]:
        """`lead_id`, its lead, that one's lead ... up to the top (stops at a loop or the depth limit)."""
        chain: list[UUID] = []
        current: UUID | None = lead_id
        while current is not None and current not in chain and len(chain) <= MAX_HIERARCHY_DEPTH:
            chain.append(current)
            current = await self._conn.scalar(select(supplier.c.lead_supplier_id).where(supplier.c.id == current))
        return chain


async def get_supplier(conn: AsyncConnection, supplier_id: UUID) -> Supplier | None:
    return await SupplierRepository(conn).get(supplier_id)


async def get_suppliers(conn: AsyncConnection, ids: list[UUID]) -> dict[UUID, Supplier]:
    if not ids:
        return {}
    rows = await conn.execute(select(supplier).where(supplier.c.id.in_(ids)))
    return {row.id: _to_domain(row) for row in rows}


async def subcontractors_below(conn: AsyncConnection, lead_id: UUID) -> list[Supplier]:
    """Every supplier under `lead_id`, at any depth, nearest first."""
    found: list[Supplier] = []
    seen = {lead_id}
    level = [lead_id]
    for _ in range(MAX_HIERARCHY_DEPTH):
        rows = list(await conn.execute(select(supplier).where(supplier.c.lead_supplier_id.in_(level))))
        fresh = [_to_domain(r) for r in rows if r.id not in seen]
        if not fresh:
            break
        found += sorted(fresh, key=lambda s: s.number)
        seen.update(s.id for s in fresh)
        level = [s.id for s in fresh]
    return found


async def list_suppliers(
    conn: AsyncConnection,
    *,
    status: str | None,
    category: str | None,
    limit: int,
    offset: int,
    lead_supplier_id: UUID | None = None,
) -> tuple[list[Supplier], int]:
    query = where_given(select(supplier), supplier, status=status, category=category, lead_supplier_id=lead_supplier_id)
    rows, total = await page(conn, query, supplier.c.created_at.desc(), supplier.c.id, limit=limit, offset=offset)
    return [_to_domain(r) for r in rows], total
