"""The aggregates and rows of the change reports: changes by type, and the changes and deployments
DORA reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.figures import FINISHED_DEPLOYMENT, PRODUCTION, Window
from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.queries import as_dicts, in_period, plain_numbers
from services.reporting.store.tables import change_facts, change_incident_facts, change_service_facts, deployment_facts


def _change_conditions(filters: ReportFilters, *, period_column: Any | None) -> list[ColumnElement[bool]]:
    c = change_facts
    conditions: list[ColumnElement[bool]] = []
    if period_column is not None:
        conditions += in_period(period_column, filters)
    if filters.service_id is not None:
        s = change_service_facts
        conditions.append(
            c.c.change_id.in_(select(s.c.change_id).where(s.c.service_id == filters.service_id).scalar_subquery())
        )
    return conditions


async def change_groups(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """Per type: changes recorded, implemented (and not failed), failed, backed out, and the
    incidents linked to them as caused by the change."""
    c, x = change_facts, change_incident_facts
    caused = select(x.c.change_id, func.count().label("incidents")).group_by(x.c.change_id).subquery("caused")
    failed = c.c.failed_at.is_not(None)
    query = (
        select(
            c.c.type,
            func.count().label("changes"),
            func.count().filter(c.c.implemented_at.is_not(None), c.c.failed_at.is_(None)).label("implemented"),
            func.count().filter(failed).label("failed"),
            func.count().filter(failed, c.c.backed_out.is_(True)).label("backed_out"),
            func.coalesce(func.sum(caused.c.incidents), 0).label("incidents_caused"),
        )
        .select_from(c.outerjoin(caused, caused.c.change_id == c.c.change_id))
        .where(*_change_conditions(filters, period_column=c.c.created_at))
        .group_by(c.c.type)
    )
    return [plain_numbers(r) for r in await conn.execute(query)]


async def dora_changes(conn: AsyncConnection, filters: ReportFilters, window: Window) -> list[dict[str, Any]]:
    """The changes implemented (not failed) in the window, once per service they name (only the
    one asked for, with a service filter): what lead time for changes reads."""
    c, s = change_facts, change_service_facts
    query = (
        select(s.c.service_id, c.c.change_id, c.c.created_at, c.c.implemented_at, c.c.failed_at)
        .join(s, s.c.change_id == c.c.change_id)
        .where(
            c.c.created_at.is_not(None),
            c.c.failed_at.is_(None),
            c.c.implemented_at >= window.start,
            c.c.implemented_at < window.end,
        )
    )
    if filters.service_id is not None:
        query = query.where(s.c.service_id == filters.service_id)
    return await as_dicts(conn, query)


async def dora_deployments(conn: AsyncConnection, filters: ReportFilters, window: Window) -> list[dict[str, Any]]:
    """Production deployments to a service that finished in the window, each with whether its
    change caused an incident."""
    d, x = deployment_facts, change_incident_facts
    conditions: list[ColumnElement[bool]] = [
        d.c.service_id.is_not(None),
        d.c.environment.in_(PRODUCTION),
        d.c.result.in_(FINISHED_DEPLOYMENT),
        d.c.finished_at >= window.start,
        d.c.finished_at < window.end,
    ]
    if filters.service_id is not None:
        conditions.append(d.c.service_id == filters.service_id)
    caused = d.c.change_id.in_(select(x.c.change_id).scalar_subquery()).label("caused_incident")
    query = select(d.c.service_id, d.c.environment, d.c.result, d.c.change_id, d.c.finished_at, caused)
    return await as_dicts(conn, query.where(*conditions))
