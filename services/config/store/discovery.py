"""CMDB store, discovery: the stored runs and the unauthorised-change findings."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.store.tables import discovery_run, unauthorised_change
from shared.db import insert_ignoring_duplicates, page


async def record_finding(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Store an unauthorised-change finding once; False when the same one is already recorded."""
    stmt = insert_ignoring_duplicates(unauthorised_change, values, returning="id")
    return (await conn.execute(stmt, values)).first() is not None


async def save_run(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(discovery_run.insert().values(values))


async def get_run(conn: AsyncConnection, run_id: UUID) -> Any:
    return (await conn.execute(select(discovery_run).where(discovery_run.c.id == run_id))).first()


async def list_runs(conn: AsyncConnection, *, source: str | None, limit: int, offset: int) -> tuple[list[Any], int]:
    query = select(
        discovery_run.c.id,
        discovery_run.c.source,
        discovery_run.c.actor,
        discovery_run.c.started_at,
        discovery_run.c.finished_at,
        discovery_run.c.counts,
    )
    if source is not None:
        query = query.where(discovery_run.c.source == source)
    rows, total = await page(conn, query, discovery_run.c.started_at.desc(), limit=limit, offset=offset)
    return rows, total
