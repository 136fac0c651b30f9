"""What the capacity report reads: each CI's capacity facts with its name and service, and the
performance incidents (category `capacity`, opened by config's critical breaches) of the period."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.queries import in_period
from services.reporting.store.tables import capacity_facts, ci_facts, incident_facts

PERFORMANCE_CATEGORY = "capacity"


def _performance(filters: ReportFilters) -> list[ColumnElement[bool]]:
    i = incident_facts
    return [i.c.category == PERFORMANCE_CATEGORY, *in_period(i.c.opened_at, filters)]


async def capacity_facts_of(conn: AsyncConnection, filters: ReportFilters) -> tuple[list[dict[str, Any]], int]:
    """The facts (with `ci_name`-less `service_id` and `performance_incidents` per CI), and the
    period's performance incidents in all (on the filtered service)."""
    cap, c, i = capacity_facts, ci_facts, incident_facts
    per_ci = (
        select(i.c.ci_id, func.count().label("incidents"))
        .where(i.c.ci_id.is_not(None), *_performance(filters))
        .group_by(i.c.ci_id)
        .subquery("per_ci")
    )
    query = (
        select(
            cap.c.ci_id,
            cap.c.metric,
            cap.c.unit,
            cap.c.level,
            cap.c.value,
            cap.c.warning,
            cap.c.critical,
            cap.c.runway_to_critical_s,
            cap.c.breaches,
            cap.c.critical_breaches,
            cap.c.last_breached_at,
            c.c.service_id,
            func.coalesce(per_ci.c.incidents, 0).label("performance_incidents"),
        )
        .select_from(cap.outerjoin(c, c.c.ci_id == cap.c.ci_id).outerjoin(per_ci, per_ci.c.ci_id == cap.c.ci_id))
        .order_by(cap.c.ci_id, cap.c.metric)
    )
    total = select(func.count()).select_from(i).where(*_performance(filters))
    if filters.service_id is not None:
        query = query.where(c.c.service_id == filters.service_id)
        total = total.where(i.c.service_id == filters.service_id)
    rows = [dict(r._mapping) for r in await conn.execute(query)]
    return rows, int((await conn.execute(total)).scalar_one())
