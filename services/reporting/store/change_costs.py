"""What the change-costs report reads: each change's latest cost statement, a row per service its
latest statement names (a change naming none: one row, `service_id` None), stated in the window
(and on the service, when asked)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.tables import FACTS

changes_t = FACTS["change_cost_facts"]
services_t = FACTS["change_cost_service_facts"]


async def change_costs(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    c, s = changes_t.c, services_t.c
    named = and_(s.change_id == c.change_id, s.stated_at == c.stated_at)  # the latest statement's services only
    conditions: list[ColumnElement[bool]] = [c.stated_at.is_not(None), c.currency.is_not(None)]
    if filters.start is not None:
        conditions.append(c.stated_at >= filters.start)
    if filters.end is not None:
        conditions.append(c.stated_at < filters.end)
    if filters.service_id is not None:
        conditions.append(s.service_id == filters.service_id)
    query = (
        select(
            c.change_id,
            c.currency,
            c.estimated_cents,
            c.estimate_stated,
            c.actual_cents,
            c.actual_stated,
            c.stated_at,
            s.service_id,
        )
        .select_from(changes_t.outerjoin(services_t, named))
        .where(*conditions)
    )
    return [dict(r._mapping) for r in await conn.execute(query)]
