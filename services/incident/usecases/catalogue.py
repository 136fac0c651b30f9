"""Request catalogue use cases: create, replace and delete the items requests are made from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.catalogue import CatalogueItem
from services.incident.store import catalogue as store
from shared import clock
from shared.errors import Conflict, check_version, found
from shared.uow import UnitOfWork


async def create_item(item_of: Callable[[UUID, int], CatalogueItem], uow: UnitOfWork) -> tuple[CatalogueItem, datetime]:
    """`item_of(id, version)` builds the item (its rules checked by the domain)."""
    async with uow:
        item, now = item_of(uuid4(), 1), clock.now()
        await _refuse_duplicate_name(uow.connection, item)
        await store.add_item(uow.connection, item, now)
        await uow.commit()
    return item, now


async def replace_item(
    item_id: UUID, item_of: Callable[[UUID, int], CatalogueItem], expected_version: int | None, uow: UnitOfWork
) -> tuple[CatalogueItem, datetime]:
    """Replace an item; requests made from it keep what they were submitted with."""
    async with uow:
        current = await _item(uow.connection, item_id, expected_version)
        item, now = item_of(item_id, current.version + 1), clock.now()
        await _refuse_duplicate_name(uow.connection, item)
        await store.replace_item(uow.connection, item, current.version, now)
        await uow.commit()
    return item, now


async def delete_item(item_id: UUID, expected_version: int | None, uow: UnitOfWork) -> None:
    async with uow:
        await _item(uow.connection, item_id, expected_version)
        if used := await store.requests_for_item(uow.connection, item_id):
            raise Conflict(f"{used} requests were made from this item; withdraw it (active: false) instead")
        await store.delete_item(uow.connection, item_id)
        await uow.commit()


async def _item(conn: AsyncConnection, item_id: UUID, expected_version: int | None) -> CatalogueItem:
    item = found(await store.get_item(conn, item_id), f"catalogue item {item_id}")[0]
    check_version(f"catalogue item {item.name}", item.version, expected_version)
    return item


async def _refuse_duplicate_name(conn: AsyncConnection, item: CatalogueItem) -> None:
    other = await store.item_named(conn, item.name)
    if other is not None and other != item.id:
        raise Conflict(f"a catalogue item named {item.name!r} exists already", existing_id=str(other))


# Requests ----------------------------------------------------------------------------------------
