"""The service-levels report's aggregates: from the daily figures the triggers keep, or from the
incident facts when a filter or a period they do not keep asks for it."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.queries import (
    aggregating,
    count_true,
    incident_conditions,
    period_label,
    period_text,
    sla_verdict,
)
from services.reporting.store.tables import (
    NO_SERVICE,
    SERVICE_LEVEL_COUNTS,
    incident_facts,
    service_level_day,
    service_level_day_change,
)


def _midnight(moment: datetime | None) -> bool:
    return moment is None or moment.astimezone(UTC).time() == time(0)


def service_levels_by_day(filters: ReportFilters) -> bool:
    """Whether the daily figures answer: no group or supplier filter (not kept per day), a period
    of whole UTC days (and not the nil UUID as the service: it stands for none there)."""
    kept = filters.group is None and filters.supplier_id is None and filters.service_id != NO_SERVICE
    return kept and _midnight(filters.start) and _midnight(filters.end)


async def service_level_groups(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """Per (period, service, priority): incidents, and response/resolution targets measured and met."""
    if service_levels_by_day(filters):
        return await _service_level_day_groups(conn, filters)
    return await service_level_fact_groups(conn, filters)


async def _service_level_day_groups(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """The same from the daily figures: their merged rows and the changes not merged yet, summed."""
    parts = []
    for table in (service_level_day, service_level_day_change):
        conditions: list[ColumnElement[bool]] = []
        if filters.start is not None:
            conditions.append(table.c.day >= filters.start.astimezone(UTC).date())
        if filters.end is not None:
            conditions.append(table.c.day < filters.end.astimezone(UTC).date())
        if filters.service_id is not None:
            conditions.append(table.c.service_id == filters.service_id)
        if filters.priority is not None:
            conditions.append(table.c.priority == filters.priority)
        columns = [table.c.day, table.c.service_id, table.c.priority, *(table.c[c] for c in SERVICE_LEVEL_COUNTS)]
        parts.append(select(*columns).where(*conditions))
    days = union_all(*parts).subquery("days")
    period = period_label(conn, days.c.day, filters.period or "month", of_day=True).label("period")
    query = (
        select(
            period,
            days.c.service_id,
            days.c.priority,
            *(func.sum(days.c[c]).label(c) for c in SERVICE_LEVEL_COUNTS),
        )
        .group_by(literal_column("1"), days.c.service_id, days.c.priority)
        .having(func.sum(days.c.incidents) != 0)
    )
    groups = []
    for r in await conn.execute(query):
        group = {k: int(v) if k in SERVICE_LEVEL_COUNTS else v for k, v in r._mapping.items()}
        group["period"] = period_text(group["period"])
        group["service_id"] = None if group["service_id"] == NO_SERVICE else group["service_id"]
        groups.append(group)
    return groups


async def service_level_fact_groups(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """`service_level_groups` from the incident facts (any filter)."""
    i = incident_facts
    period = period_label(conn, i.c.opened_at, filters.period or "month").label("period")
    response, resolution = sla_verdict(i, "response"), sla_verdict(i, "resolution")
    query = (
        select(
            period,
            i.c.service_id,
            i.c.priority,
            func.count().label("incidents"),
            func.count(response).label("response_measured"),
            count_true(response).label("response_met"),
            func.count(resolution).label("resolution_measured"),
            count_true(resolution).label("resolution_met"),
        )
        .where(*incident_conditions(filters), i.c.priority.is_not(None))
        .group_by(literal_column("1"), i.c.service_id, i.c.priority)
    )
    await aggregating(conn)
    groups = []
    for r in await conn.execute(query):
        group = {
            k: (int(v) if k not in ("period", "service_id") and v is not None else v) for k, v in r._mapping.items()
        }
        group["period"] = period_text(group["period"])
        groups.append(group)
    return groups
