"""What the continuity report and the significant-events report read of the continuity facts:
the plans (on a service), the services each covers, the invocations (in a period)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.queries import in_period
from services.reporting.store.tables import FACTS

plans_t = FACTS["continuity_plan_facts"]
services_t = FACTS["continuity_plan_service_facts"]
invocations_t = FACTS["continuity_invocation_facts"]


def _on_service(column: Any, filters: ReportFilters) -> list[Any]:
    if filters.service_id is None:
        return []
    wanted = select(services_t.c.plan_id).where(services_t.c.service_id == filters.service_id)
    return [column.in_(wanted.scalar_subquery())]


async def plans(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """Plans recorded (a re-test or test alone, without the plan's own event yet, is left out)."""
    query = select(plans_t).where(plans_t.c.title.is_not(None), *_on_service(plans_t.c.plan_id, filters))
    return [dict(r._mapping) for r in await conn.execute(query)]


async def plan_services(conn: AsyncConnection) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for r in await conn.execute(select(services_t.c.plan_id, services_t.c.service_id)):
        found[str(r[0])].append(str(r[1]))
    return found


async def invocation_counts(conn: AsyncConnection) -> dict[str, int]:
    i = invocations_t
    rows = await conn.execute(select(i.c.plan_id, func.count()).where(i.c.plan_id.is_not(None)).group_by(i.c.plan_id))
    return {str(r[0]): int(r[1]) for r in rows}


async def invocations(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """Invocations made in the period (their invoked_at), on plans covering the filtered service."""
    i = invocations_t
    conditions = [i.c.invoked_at.is_not(None), *in_period(i.c.invoked_at, filters)]
    query = select(i).where(*conditions, *_on_service(i.c.plan_id, filters))
    return [dict(r._mapping) for r in await conn.execute(query)]
