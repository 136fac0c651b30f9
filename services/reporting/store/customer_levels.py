"""The fact rows of the customer service levels report (ISO/IEC 20000-1 6.1): the incidents of each
customer in the period with their SLA verdicts, and the agreements config published."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.queries import aggregating, count_true, incident_conditions, sla_verdict
from services.reporting.store.tables import agreement_facts, incident_facts


async def customer_groups(conn: AsyncConnection, filters: ReportFilters) -> list[Any]:
    i = incident_facts
    response, resolution = sla_verdict(i, "response"), sla_verdict(i, "resolution")
    query = (
        select(
            i.c.customer_id,
            func.count().label("incidents"),
            func.count(response).label("response_measured"),
            count_true(response).label("response_met"),
            func.count(resolution).label("resolution_measured"),
            count_true(resolution).label("resolution_met"),
        )
        .where(*incident_conditions(filters), i.c.customer_id.is_not(None))
        .group_by(i.c.customer_id)
    )
    await aggregating(conn)
    return [r._mapping for r in await conn.execute(query)]


async def agreements(conn: AsyncConnection) -> list[Any]:
    a = agreement_facts
    columns = ("number", "document_version", "kind", "customer_id", "customer_name", "availability_pct", "status")
    query = select(*(a.c[c] for c in columns), a.c.agreed_at)
    return [r._mapping for r in await conn.execute(query)]
