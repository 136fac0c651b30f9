"""CMDB store, baselines: a baseline's record and its CIs' snapshots, and the CIs a scope takes in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.items import ConfigItem
from services.config.store.items import item_of
from services.config.store.tables import baseline, baseline_item, config_item
from shared.db import page, where_given


async def save_baseline(conn: AsyncConnection, values: dict[str, Any], items: Sequence[ConfigItem]) -> None:
    await conn.execute(baseline.insert().values(values))
    if items:
        await conn.execute(
            baseline_item.insert(),
            [
                {"baseline_id": values["id"], "ci_id": i.id, "version": i.version, "snapshot": i.snapshot()}
                for i in items
            ],
        )


async def get_baseline(conn: AsyncConnection, baseline_id: UUID) -> Any:
    return (await conn.execute(select(baseline).where(baseline.c.id == baseline_id))).first()


async def baseline_snapshots(conn: AsyncConnection, baseline_id: UUID) -> dict[str, dict[str, Any]]:
    rows = await conn.execute(select(baseline_item.c.snapshot).where(baseline_item.c.baseline_id == baseline_id))
    return {r.snapshot["id"]: r.snapshot for r in rows}


async def list_baselines(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[list[Any], int]:
    return await page(conn, select(baseline), baseline.c.created_at.desc(), limit=limit, offset=offset)


async def items_by_query(
    conn: AsyncConnection, *, ci_type: str | None, status: str | None, service_id: UUID | None, limit: int
) -> list[ConfigItem]:
    query = select(config_item)
    query = where_given(query, config_item, type=ci_type, status=status, service_id=service_id)
    rows = await conn.execute(query.order_by(config_item.c.number).limit(limit))
    return [item_of(r) for r in rows]
