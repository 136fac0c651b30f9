"""CMDB store, bulk import and export: CIs by number, every CI or relationship in a stable order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.items import ConfigItem
from services.config.store.items import item_of
from services.config.store.tables import ci_relationship, config_item
from shared.db import where_given


async def items_by_numbers(conn: AsyncConnection, numbers: Iterable[str]) -> dict[str, ConfigItem]:
    wanted = sorted(set(numbers))
    found: dict[str, ConfigItem] = {}
    for start in range(0, len(wanted), 1000):
        query = select(config_item).where(config_item.c.number.in_(wanted[start : start + 1000]))
        for row in await conn.execute(query):
            found[row.number] = item_of(row)
    return found


async def export_items(conn: AsyncConnection, *, ci_type: str | None, status: str | None) -> list[ConfigItem]:
    query = select(config_item)
    query = where_given(query, config_item, type=ci_type, status=status)
    return [item_of(r) for r in await conn.execute(query.order_by(config_item.c.number))]


async def export_relationships(conn: AsyncConnection) -> list[Any]:
    """CI-to-CI relationships with both ends' numbers (stable across CMDBs, unlike ids)."""
    source, target, r = config_item.alias("source"), config_item.alias("target"), ci_relationship
    query = (
        select(source.c.number.label("source"), r.c.type, target.c.number.label("target"))
        .join(source, source.c.id == r.c.source_id)
        .join(target, target.c.id == r.c.target_id)
        .order_by(source.c.number, r.c.type, target.c.number)
    )
    return list(await conn.execute(query))
