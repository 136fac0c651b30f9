"""CMDB store, the service catalogue: business services and how many CIs name each."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.items import CIStatus, ConfigItem
from services.config.domain.types import BUSINESS_SERVICE
from services.config.store.items import item_of
from services.config.store.tables import config_item
from shared.db import page


async def business_services(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[list[ConfigItem], int]:
    query = select(config_item).where(
        config_item.c.type == BUSINESS_SERVICE, config_item.c.status != CIStatus.RETIRED.value
    )
    rows, total = await page(conn, query, config_item.c.name, limit=limit, offset=offset)
    return [item_of(r) for r in rows], total


async def member_counts(conn: AsyncConnection, service_ids: Sequence[UUID]) -> dict[UUID, int]:
    if not service_ids:
        return {}
    query = (
        select(config_item.c.service_id, func.count())
        .where(config_item.c.service_id.in_(list(service_ids)), config_item.c.status != CIStatus.RETIRED.value)
        .group_by(config_item.c.service_id)
    )
    return {r[0]: int(r[1]) for r in await conn.execute(query)}
