"""Stored report runs (one per report and period, immutable) and the findings recorded on them
(append-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.store.tables import report_finding, report_run
from shared.db import insert_ignoring_duplicates, page


async def insert_run(conn: AsyncConnection, row: dict[str, Any]) -> bool:
    """Store a run; False when this report's period already has one (another replica made it)."""
    stmt = insert_ignoring_duplicates(report_run, row, returning="run_id")
    return (await conn.execute(stmt, row)).first() is not None


async def run_exists(conn: AsyncConnection, report: str, frequency: str, period_start: datetime) -> bool:
    r = report_run
    query = select(r.c.run_id).where(r.c.report == report, r.c.frequency == frequency, r.c.period_start == period_start)
    return (await conn.execute(query)).first() is not None


async def list_runs(conn: AsyncConnection, *, report: str | None, limit: int, offset: int) -> tuple[list[Any], int]:
    r = report_run
    query = select(*(c for c in r.c if c.name != "body"))
    if report is not None:
        query = query.where(r.c.report == report)
    return await page(conn, query, r.c.generated_at.desc(), r.c.run_id, limit=limit, offset=offset)


async def get_run(conn: AsyncConnection, run_id: Any) -> Any | None:
    return (await conn.execute(select(report_run).where(report_run.c.run_id == run_id))).first()


async def has_run(conn: AsyncConnection, run_id: Any) -> bool:
    r = report_run
    return (await conn.execute(select(r.c.run_id).where(r.c.run_id == run_id))).first() is not None


# Findings and actions on a run


async def add_finding(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(report_finding.insert().values(row))


async def findings(conn: AsyncConnection, run_id: UUID) -> list[Any]:
    f = report_finding
    query = select(f).where(f.c.run_id == run_id).order_by(f.c.recorded_at, f.c.finding_id)
    return list(await conn.execute(query))
