"""What the costs report reads of the cost facts: the budgets whose period overlaps the window
(on a service), their lines, and the actuals each budget counts, summed per category in SQL as
integer cents (exact on both databases)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.tables import FACTS

budgets_t = FACTS["budget_facts"]
lines_t = FACTS["budget_line_facts"]
actuals_t = FACTS["cost_actual_facts"]


def _budgets_asked(filters: ReportFilters) -> list[ColumnElement[bool]]:
    """Budgets recorded (a line alone is no budget) on the service, overlapping [from, to)."""
    b = budgets_t.c
    conditions: list[ColumnElement[bool]] = [b.period_start.is_not(None), b.currency.is_not(None)]
    if filters.service_id is not None:
        conditions.append(b.service_id == filters.service_id)
    if filters.start is not None:
        conditions.append(b.period_end >= filters.start.date())  # the period's last day is in or after the window
    if filters.end is not None:
        conditions.append(b.period_start <= (filters.end - timedelta(microseconds=1)).date())
    return conditions


async def budgets(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    query = select(budgets_t).where(*_budgets_asked(filters))
    return [dict(r._mapping) for r in await conn.execute(query)]


async def budget_lines(conn: AsyncConnection, filters: ReportFilters) -> dict[UUID, dict[str, int]]:
    """The asked budgets' lines: cents by budget and category."""
    b, line = budgets_t.c, lines_t.c
    query = (
        select(line.budget_id, line.category, line.amount_cents)
        .join_from(lines_t, budgets_t, line.budget_id == b.budget_id)
        .where(*_budgets_asked(filters), line.amount_cents.is_not(None))
    )
    found: dict[UUID, dict[str, int]] = defaultdict(dict)
    for r in await conn.execute(query):
        found[r[0]][r[1]] = int(r[2])
    return found


async def budget_actuals(conn: AsyncConnection, filters: ReportFilters, as_of: date) -> dict[UUID, dict[str, int]]:
    """What each asked budget counts, as config's budget report does: the service's actuals in the
    budget's currency, incurred in its period by `as_of`; cents by budget and category."""
    b, a = budgets_t.c, actuals_t.c
    counted = and_(
        a.service_id == b.service_id,
        a.currency == b.currency,
        a.incurred_on >= b.period_start,
        a.incurred_on <= b.period_end,
        a.incurred_on <= as_of,
    )
    query = (
        select(b.budget_id, a.category, func.sum(a.amount_cents))
        .join_from(budgets_t, actuals_t, counted)
        .where(*_budgets_asked(filters), a.amount_cents.is_not(None), a.category.is_not(None))
        .group_by(b.budget_id, a.category)
    )
    found: dict[UUID, dict[str, int]] = defaultdict(dict)
    for r in await conn.execute(query):
        found[r[0]][r[1]] = int(r[2])  # PostgreSQL's sum of bigints is numeric: whole cents all the same
    return found
