"""Request catalogue persistence: the items requests are made from."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.catalogue import CatalogueItem
from services.incident.store.tables import catalogue_item, service_request
from shared.db import record_of, row_values, update_versioned


def _item_row(item: CatalogueItem, at: datetime) -> dict[str, Any]:
    return row_values(catalogue_item, item, updated_at=at)


def _item(row: Any) -> CatalogueItem:
    return record_of(CatalogueItem, row)


async def add_item(conn: AsyncConnection, item: CatalogueItem, at: datetime) -> None:
    await conn.execute(catalogue_item.insert(), _item_row(item, at))


async def get_item(conn: AsyncConnection, item_id: UUID) -> tuple[CatalogueItem, datetime] | None:
    row = (await conn.execute(select(catalogue_item).where(catalogue_item.c.id == item_id))).first()
    return (_item(row), row.updated_at) if row else None


async def item_named(conn: AsyncConnection, name: str) -> UUID | None:
    found: UUID | None = await conn.scalar(select(catalogue_item.c.id).where(catalogue_item.c.name == name))
    return found


async def list_items(
    conn: AsyncConnection, *, service_id: UUID | None, active: bool | None
) -> list[tuple[CatalogueItem, datetime]]:
    query = select(catalogue_item)
    if service_id is not None:
        query = query.where(catalogue_item.c.service_id == service_id)
    if active is not None:
        query = query.where(catalogue_item.c.active.is_(active))
    return [(_item(r), r.updated_at) for r in await conn.execute(query.order_by(catalogue_item.c.name))]


async def replace_item(conn: AsyncConnection, item: CatalogueItem, expected_version: int, at: datetime) -> None:
    values = _item_row(item, at)
    del values["id"]
    await update_versioned(conn, catalogue_item, item.id, expected_version, values, label=f"catalogue item {item.name}")


async def requests_for_item(conn: AsyncConnection, item_id: UUID) -> int:
    count = await conn.scalar(select(func.count()).where(service_request.c.catalogue_item_id == item_id))
    return int(count or 0)


async def delete_item(conn: AsyncConnection, item_id: UUID) -> None:
    await conn.execute(delete(catalogue_item).where(catalogue_item.c.id == item_id))


class CatalogueRepository:
    """The catalogue as the request use cases read it, on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, item_id: UUID) -> tuple[CatalogueItem, datetime] | None:
        """The item and when it was last changed."""
        return await get_item(self._conn, item_id)
