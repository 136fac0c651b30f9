"""The fact rows of the significant-events report (ISO/IEC 20000-1 6.2 b): major incidents,
production deployments and emergency changes selected by the report's filters."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.figures import FINISHED_DEPLOYMENT, PRODUCTION
from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.tables import change_facts, change_service_facts, deployment_facts, incident_facts


def _in_period(column: Any, filters: ReportFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [column.is_not(None)]
    if filters.start is not None:
        conditions.append(column >= filters.start)
    if filters.end is not None:
        conditions.append(column < filters.end)
    return conditions


async def major_incidents(conn: AsyncConnection, filters: ReportFilters) -> list[Any]:
    """Major incidents opened in the period (as the incidents report counts them)."""
    i = incident_facts
    conditions = [i.c.major.is_(True), *_in_period(i.c.opened_at, filters)]
    if filters.service_id is not None:
        conditions.append(i.c.service_id == filters.service_id)
    query = select(
        i.c.incident_id,
        i.c.number,
        i.c.service_id,
        i.c.status,
        i.c.opened_at,
        i.c.resolved_at,
        i.c.closed_at,
        i.c.caused_by_change_id,
    )
    return [r._mapping for r in await conn.execute(query.where(*conditions))]


async def production_deployments(conn: AsyncConnection, filters: ReportFilters) -> list[Any]:
    """Deployments to production that finished in the period (as the DORA report counts them)."""
    d = deployment_facts
    conditions = [
        d.c.environment.in_(PRODUCTION),
        d.c.result.in_(FINISHED_DEPLOYMENT),
        *_in_period(d.c.finished_at, filters),
    ]
    if filters.service_id is not None:
        conditions.append(d.c.service_id == filters.service_id)
    return [r._mapping for r in await conn.execute(select(d).where(*conditions))]


async def emergency_changes(conn: AsyncConnection, filters: ReportFilters) -> list[Any]:
    """Emergency changes created in the period (as the changes report counts them)."""
    c = change_facts
    conditions = [c.c.type == "emergency", *_in_period(c.c.created_at, filters)]
    if filters.service_id is not None:
        s = change_service_facts
        wanted = select(s.c.change_id).where(s.c.service_id == filters.service_id).scalar_subquery()
        conditions.append(c.c.change_id.in_(wanted))
    return [r._mapping for r in await conn.execute(select(c).where(*conditions))]


async def change_numbers(conn: AsyncConnection) -> dict[str, str]:
    c = change_facts
    rows = await conn.execute(select(c.c.change_id, c.c.number).where(c.c.number.is_not(None)))
    return {str(r[0]): str(r[1]) for r in rows}


async def change_services(conn: AsyncConnection) -> dict[str, set[str]]:
    """The services each change is on, by change id."""
    found: dict[str, set[str]] = defaultdict(set)
    for r in await conn.execute(select(change_service_facts.c.change_id, change_service_facts.c.service_id)):
        found[str(r[0])].add(str(r[1]))
    return found
