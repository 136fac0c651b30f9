"""The fact rows of the satisfaction report (ISO/IEC 20000-1 7.1): surveys issued and complaints
received in the period, for one service or all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.tables import complaint_facts, survey_facts


def _selected(table: Table, when: str, filters: ReportFilters) -> list[ColumnElement[bool]]:
    column = table.c[when]
    conditions: list[ColumnElement[bool]] = [column.is_not(None)]
    if filters.start is not None:
        conditions.append(column >= filters.start)
    if filters.end is not None:
        conditions.append(column < filters.end)
    if filters.service_id is not None:
        conditions.append(table.c.service_id == filters.service_id)
    return conditions


async def surveys(conn: AsyncConnection, filters: ReportFilters) -> list[Any]:
    s = survey_facts
    query = select(s.c.service_id, s.c.respondent, s.c.score, s.c.complaint_id)
    return [r._mapping for r in await conn.execute(query.where(*_selected(s, "issued_at", filters)))]


async def complaints(conn: AsyncConnection, filters: ReportFilters) -> list[Any]:
    c = complaint_facts
    query = select(c.c.service_id, c.c.complainant)
    return [r._mapping for r in await conn.execute(query.where(*_selected(c, "received_at", filters)))]
