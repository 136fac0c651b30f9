"""Configuration facts the reports read: names of CIs and services, the services, the CMDB report's
aggregates."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.queries import in_period, plain_numbers
from services.reporting.store.tables import ci_facts, cmdb_finding_facts


async def service_names(conn: AsyncConnection, ids: Iterable[Any] | None = None) -> dict[str, str]:
    """Names of CIs, by id (a service is a CI): every named CI, or only those of `ids`."""
    c = ci_facts
    query = select(c.c.ci_id, c.c.name).where(c.c.name.is_not(None))
    if ids is None:
        return {str(r[0]): str(r[1]) for r in await conn.execute(query)}
    wanted = sorted({uuid.UUID(str(i)) for i in ids if i is not None and str(i) != ""})
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # SQLite's bound parameter limit
        rows = await conn.execute(query.where(c.c.ci_id.in_(wanted[start : start + 500])))
        names.update({str(r[0]): str(r[1]) for r in rows})
    return names


SERVICE_TYPES = ("service", "business_service", "technical_service")


async def services(conn: AsyncConnection, filters: ReportFilters) -> list[str]:
    c = ci_facts
    conditions: list[ColumnElement[bool]] = [
        c.c.type.in_(SERVICE_TYPES),
        (c.c.status != "retired") | c.c.status.is_(None),
    ]
    if filters.service_id is not None:
        conditions.append(c.c.ci_id == filters.service_id)
    return [str(r[0]) for r in await conn.execute(select(c.c.ci_id).where(*conditions))]


async def cmdb_groups(conn: AsyncConnection, filters: ReportFilters) -> tuple[list[Any], dict[str, int]]:
    """CIs per (type, status): how many, how many critical (1), the unauthorised changes detected
    on them in the period; and the findings of the period by kind."""
    c, f = ci_facts, cmdb_finding_facts
    found = (
        select(f.c.ci_id, func.count().label("findings"))
        .where(f.c.kind == "unauthorised_change", f.c.ci_id.is_not(None), *in_period(f.c.detected_at, filters))
        .group_by(f.c.ci_id)
        .subquery("found")
    )
    conditions: list[ColumnElement[bool]] = [c.c.type.is_not(None)]
    if filters.service_id is not None:
        conditions.append(c.c.service_id == filters.service_id)
    if filters.supplier_id is not None:
        conditions.append(c.c.supplier_id == filters.supplier_id)
    query = (
        select(
            c.c.type,
            c.c.status,
            func.count().label("cis"),
            func.count().filter(c.c.criticality == 1).label("critical"),
            func.coalesce(func.sum(found.c.findings), 0).label("unauthorised_changes"),
        )
        .select_from(c.outerjoin(found, found.c.ci_id == c.c.ci_id))
        .where(*conditions)
        .group_by(c.c.type, c.c.status)
    )
    kinds = select(f.c.kind, func.count()).where(*in_period(f.c.detected_at, filters)).group_by(f.c.kind)
    groups = [plain_numbers(r) for r in await conn.execute(query)]
    return groups, {str(r[0]): int(r[1]) for r in await conn.execute(kinds) if r[0] is not None}


# Suppliers: which incidents count toward a supplier, and the scorecards
