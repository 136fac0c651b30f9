"""The suppliers report: one statement for every supplier's scorecard."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, func, or_, select, text, union
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.figures import CONTRACT_IN_FORCE, RESOLVED_INCIDENT
from services.reporting.domain.report_filters import ReportFilters
from services.reporting.domain.report_rows import BREACH_METRICS
from services.reporting.store.attribution import COVERED_BY, covered_when_opened, covering, in_force
from services.reporting.store.queries import aggregating, count_true, in_period, incident_conditions, sla_verdict
from services.reporting.store.tables import (
    contract_facts,
    dispute_facts,
    incident_facts,
    supplier_breach_facts,
    supplier_facts,
)


def _supplier_condition(table: Table, filters: ReportFilters) -> list[ColumnElement[bool]]:
    return [] if filters.supplier_id is None else [table.c.supplier_id == filters.supplier_id]


def _attributions(filters: ReportFilters) -> Any:
    """(supplier_id, incident_id, status, resolution_met): each incident the filters select once
    for each supplier it counts toward (see `attributed_to`); UNION drops the repeats (an incident
    assigned to a supplier and on a CI its contract covers, or on a covered CI of a covered service)."""
    i, k = incident_facts, contract_facts
    conditions = incident_conditions(replace(filters, supplier_id=None))
    wanted = filters.supplier_id
    facts = (i.c.incident_id, i.c.status, sla_verdict(i, "resolution").label("resolution_met"))
    arms = [
        select(i.c.supplier_id.label("supplier_id"), *facts).where(
            *conditions,
            i.c.supplier_id.is_not(None) if wanted is None else i.c.supplier_id == wanted,
        )
    ]
    for kind, column in COVERED_BY:
        arms.append(
            select(k.c.supplier_id.label("supplier_id"), *facts)
            .select_from(covering(i, kind, column))
            .where(
                *conditions,
                i.c[column].is_not(None),
                *covered_when_opened(i),
                *([] if wanted is None else [k.c.supplier_id == wanted]),
            )
        )
    return union(*arms)


async def supplier_scorecards(conn: AsyncConnection, filters: ReportFilters, now: datetime) -> list[dict[str, Any]]:
    """Per supplier (registered, counted an incident or missed a target): its contracts in force
    now (active or expiring, and within their term), the incidents counted toward it (resolved,
    resolution measured and met), targets missed by metric, open disputes. One statement;
    `from`/`to` select incidents and breaches."""
    await aggregating(conn)  # custom plans, no JIT (a generic plan took 6-7 s in place of ~1 s)
    if conn.dialect.name == "postgresql":
        # The memory to remove the repeats of the attribution union in memory (~360,000 rows over
        # 1,000,000 incidents: sorted on disk with the default 4 MB); for this transaction only.
        await conn.execute(text("SET LOCAL work_mem = '64MB'"))
    return [dict(r._mapping) for r in await conn.execute(_scorecards(filters, now))]


def _scorecards(filters: ReportFilters, now: datetime) -> Any:
    s, k, b, d = supplier_facts, contract_facts, supplier_breach_facts, dispute_facts
    attributed = _attributions(filters).cte("attributed")
    incidents = (
        select(
            attributed.c.supplier_id,
            func.count().label("incidents"),
            func.count().filter(attributed.c.status.in_(RESOLVED_INCIDENT)).label("incidents_resolved"),
            func.count(attributed.c.resolution_met).label("resolution_measured"),
            count_true(attributed.c.resolution_met).label("resolution_met"),
        )
        .group_by(attributed.c.supplier_id)
        .subquery("incidents")
    )
    breach_conditions = [b.c.supplier_id.is_not(None), *in_period(b.c.occurred_at, filters)]
    breach_conditions += _supplier_condition(b, filters)
    breaches = (
        select(
            b.c.supplier_id,
            func.count().label("target_breaches"),
            *(func.count().filter(b.c.metric == m).label(f"{m}_breaches") for m in BREACH_METRICS),
        )
        .where(*breach_conditions)
        .group_by(b.c.supplier_id)
        .subquery("breaches")
    )
    contracts = (
        select(k.c.supplier_id, func.count().label("active_contracts"))
        .where(k.c.status.in_(sorted(CONTRACT_IN_FORCE)), in_force(k, now), *_supplier_condition(k, filters))
        .group_by(k.c.supplier_id)
        .subquery("contracts")
    )
    disputes = (
        select(d.c.supplier_id, func.count().label("open_disputes"))
        .where(or_(d.c.status.is_(None), d.c.status != "closed"), *_supplier_condition(d, filters))
        .group_by(d.c.supplier_id)
        .subquery("disputes")
    )
    ids = union(
        select(s.c.supplier_id).where(*_supplier_condition(s, filters)),
        select(incidents.c.supplier_id),  # its ~20 grouped rows, not the ~360,000 attributions again
        select(b.c.supplier_id).where(*breach_conditions),
    ).subquery("ids")
    counts = [contracts.c.active_contracts, *(c for c in incidents.c if c.name != "supplier_id")]
    counts += [c for c in breaches.c if c.name != "supplier_id"]
    counts.append(disputes.c.open_disputes)
    query = (
        select(
            ids.c.supplier_id,
            s.c.name.label("supplier_name"),
            s.c.status,
            *(func.coalesce(c, 0).label(c.name) for c in counts),
        )
        .select_from(
            ids.outerjoin(s, s.c.supplier_id == ids.c.supplier_id)
            .outerjoin(contracts, contracts.c.supplier_id == ids.c.supplier_id)
            .outerjoin(incidents, incidents.c.supplier_id == ids.c.supplier_id)
            .outerjoin(breaches, breaches.c.supplier_id == ids.c.supplier_id)
            .outerjoin(disputes, disputes.c.supplier_id == ids.c.supplier_id)
        )
        .order_by(ids.c.supplier_id)
    )
    return query
