"""Supplier persistence: tables (SQLAlchemy Core), the repository and read queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Column, Integer, String, Table, Uuid, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier.domain import RiskRating, Supplier, SupplierCategory, SupplierStatus, name_key
from shared.db import UtcDateTime, make_metadata, page
from shared.errors import Conflict
from shared.inbox import inbox_table
from shared.numbering import next_number, number_sequence_table
from shared.outbox import outbox_table

metadata = make_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
number_sequence = number_sequence_table(metadata)

supplier = Table(
    "supplier",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    # domain.name_key(name); casefolding can lengthen a name (up to 3 characters for one), hence 600.
    Column("name_key", String(600), nullable=False, unique=True),
    Column("category", String(20), nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("risk_rating", String(10), nullable=False),
    Column("supplier_manager", String(200)),
    Column("contact_email", String(254)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)


def _to_row(item: Supplier) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "name": item.name,
        "name_key": item.name_key,
        "category": item.category.value,
        "status": item.status.value,
        "risk_rating": item.risk_rating.value,
        "supplier_manager": item.supplier_manager,
        "contact_email": item.contact_email,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "version": item.version,
    }


def _to_domain(row: Any) -> Supplier:
    return Supplier(
        id=row.id,
        number=row.number,
        name=row.name,
        category=SupplierCategory(row.category),
        status=SupplierStatus(row.status),
        risk_rating=RiskRating(row.risk_rating),
        supplier_manager=row.supplier_manager,
        contact_email=row.contact_email,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
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

    async def get(self, supplier_id: UUID) -> Supplier | None:
        row = (await self._conn.execute(select(supplier).where(supplier.c.id == supplier_id))).first()
        return _to_domain(row) if row else None

    async def get_by_name(self, name: str) -> Supplier | None:
        """The supplier whose name is the same as `name` once case and spacing are ignored."""
        row = (await self._conn.execute(select(supplier).where(supplier.c.name_key == name_key(name)))).first()
        return _to_domain(row) if row else None


async def get_supplier(conn: AsyncConnection, supplier_id: UUID) -> Supplier | None:
    return await SupplierRepository(conn).get(supplier_id)


async def list_suppliers(
    conn: AsyncConnection,
    *,
    status: str | None,
    category: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Supplier], int]:
    query = select(supplier)
    if status is not None:
        query = query.where(supplier.c.status == status)
    if category is not None:
        query = query.where(supplier.c.category == category)
    rows, total = await page(conn, query, supplier.c.created_at.desc(), supplier.c.id, limit=limit, offset=offset)
    return [_to_domain(r) for r in rows], total
