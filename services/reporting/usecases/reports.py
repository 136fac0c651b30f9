"""Report use cases: the definitions, a report produced now from the projections (JSON or CSV)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain import (
    change_costs,
    continuity,
    costs,
    customer_levels,
    figures,
    report_rows,
    satisfaction,
)
from services.reporting.domain.definitions import BY_NAME, DEFINITIONS, ReportDefinition
from services.reporting.domain.outages import DEFAULT_THRESHOLD, outage_investigation_rows
from services.reporting.domain.report_filters import ReportFilters
from services.reporting.domain.significant_events import significant_events_report
from services.reporting.store import capacity, cmdb, incidents, service_levels, significant_events, suppliers
from services.reporting.store import change_costs as change_cost_store
from services.reporting.store import changes as change_store
from services.reporting.store import continuity as continuity_store
from services.reporting.store import costs as cost_store
from services.reporting.store import customer_levels as customer_levels_store
from services.reporting.store import satisfaction as satisfaction_store
from shared import clock
from shared.errors import NotFound, RuleViolation

DEFAULT_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Report:
    definition: ReportDefinition
    filters: ReportFilters
    generated_at: datetime
    rows: list[dict[str, Any]]
    totals: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.definition.name,
            "definition": definition_json(self.definition),
            "filters": self.filters.as_dict(),
            "generated_at": self.generated_at.isoformat(),
            "rows": [{k: _json_value(v) for k, v in row.items()} for row in self.rows],
            "totals": {k: _json_value(v) for k, v in self.totals.items()},
        }


def _json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # money: exact, as a string ("1200.50"), never a float
    return value


def definition_json(d: ReportDefinition) -> dict[str, Any]:
    return {
        "name": d.name,
        "title": d.title,
        "purpose": d.purpose,
        "audience": list(d.audience),
        "frequency": d.frequency,
        "data_source": d.data_source,
        "filters": list(d.filters),
        "period_applies_to": d.period_applies_to,
        "columns": list(d.columns),
        "column_descriptions": dict(d.columns),
    }


def definitions() -> list[dict[str, Any]]:
    return [definition_json(d) for d in DEFINITIONS]


def definition(name: str) -> ReportDefinition:
    found = BY_NAME.get(name)
    if found is None:
        raise NotFound(f"no report named {name!r}", reports=sorted(BY_NAME))
    return found


def named_in_filter(name: str, *, field: str) -> ReportDefinition:
    """The report a query parameter names: an unknown one is bad input naming `field` (not a 404)."""
    found = BY_NAME.get(name)
    if found is None:
        raise RuleViolation(f"no report named {name!r}; one of: {', '.join(sorted(BY_NAME))}", field=field)
    return found


def check_filters(filters: ReportFilters) -> None:
    if filters.start is not None and filters.end is not None and filters.start >= filters.end:
        raise RuleViolation("'from' must be before 'to'", field="from")


def _window(filters: ReportFilters, now: datetime) -> figures.Window:
    end = filters.end or now
    return figures.Window(start=filters.start or end - DEFAULT_WINDOW, end=end)


async def produce(
    conn: AsyncConnection,
    name: str,
    filters: ReportFilters,
    *,
    now: datetime | None = None,
    availability_target: Callable[[str], float] = lambda _: 99.5,
    outage_threshold: timedelta = DEFAULT_THRESHOLD,
) -> Report:
    d = definition(name)
    check_filters(filters)
    now = now or clock.now()
    rows, totals = await _figures(conn, name, filters, now, availability_target, outage_threshold)
    return Report(definition=d, filters=filters, generated_at=now, rows=rows, totals=totals)


async def _figures(
    conn: AsyncConnection,
    name: str,
    filters: ReportFilters,
    now: datetime,
    availability_target: Callable[[str], float],
    outage_threshold: timedelta = DEFAULT_THRESHOLD,
) -> figures.Result:
    if name == "significant-events":
        return await _significant_events(conn, filters)
    if name == "service-levels":
        groups = await service_levels.service_level_groups(conn, filters)
        return report_rows.service_levels_rows(
            groups, await cmdb.service_names(conn, (g["service_id"] for g in groups))
        )
    if name == "incidents":
        found = await incidents.incident_groups(conn, filters, now)
        majors = await incidents.major_incident_numbers(conn, filters)
        names = await cmdb.service_names(conn, (g["service_id"] for g in found))
        return report_rows.incidents_rows(found, majors, names, now)
    if name == "requests":
        return report_rows.requests_rows(await incidents.request_groups(conn, filters))
    if name == "problems":
        return report_rows.problems_rows(*await incidents.problem_groups(conn, filters))
    if name == "changes":
        return report_rows.changes_rows(await change_store.change_groups(conn, filters))
    if name == "dora":
        window = _window(filters, now)
        deployments = await change_store.dora_deployments(conn, filters, window)
        implemented = await change_store.dora_changes(conn, filters, window)
        services: dict[str, set[str]] = {}
        for c in implemented:
            services.setdefault(str(c["change_id"]), set()).add(str(c["service_id"]))
        changes = list({c["change_id"]: c for c in implemented}.values())
        causing = {str(d["change_id"]) for d in deployments if d["caused_incident"]}
        outages = await incidents.outage_incidents(conn, filters, window, resolved_in_window=True)
        ids = {d["service_id"] for d in deployments} | {o["service_id"] for o in outages}
        ids |= {s for named in services.values() for s in named}
        names = await cmdb.service_names(conn, ids)
        return figures.dora_report(window, deployments, changes, services, causing, outages, names)
    if name == "availability":
        window = _window(filters, now)
        outages = await incidents.outage_incidents(conn, filters, window)
        services_ = await cmdb.services(conn, filters)
        names = await cmdb.service_names(conn, {*services_, *(o["service_id"] for o in outages)})
        return figures.availability_report(window, outages, services_, names, availability_target)
    if name == "outage-investigations":
        found = await incidents.resolved_outages(conn, filters)
        names = await cmdb.service_names(conn, {o["service_id"] for o in found})
        return outage_investigation_rows(found, names, outage_threshold)
    if name == "cmdb":
        return report_rows.cmdb_rows(*await cmdb.cmdb_groups(conn, filters))
    if name == "suppliers":
        return report_rows.suppliers_rows(await suppliers.supplier_scorecards(conn, filters, now))
    if name == "hotspots":
        cis, totals = await incidents.hotspot_groups(conn, filters, report_rows.HOTSPOT_ROWS)
        names = await cmdb.service_names(conn, {i for c in cis for i in (c["ci_id"], c["service_id"])})
        return report_rows.hotspots_rows(cis, totals, names)
    if name == "satisfaction":
        found = await satisfaction_store.surveys(conn, filters)
        received = await satisfaction_store.complaints(conn, filters)
        ids = {s["service_id"] for s in found} | {c["service_id"] for c in received}
        names = await cmdb.service_names(conn, {i for i in ids if i is not None})
        return satisfaction.satisfaction_rows(found, received, names)
    if name == "capacity":
        facts, in_period = await capacity.capacity_facts_of(conn, filters)
        names = await cmdb.service_names(conn, (f["ci_id"] for f in facts))
        return report_rows.capacity_rows(facts, names, in_period)
    if name == "continuity":
        return await _continuity(conn, filters, now)
    if name == "customer-service-levels":
        groups = await customer_levels_store.customer_groups(conn, filters)
        return customer_levels.customer_service_level_rows(groups, await customer_levels_store.agreements(conn))
    if name == "costs":
        as_of = now.astimezone(UTC).date()  # the day the actuals are counted to, as config's report
        found = await cost_store.budgets(conn, filters)
        lines = await cost_store.budget_lines(conn, filters)
        spent = await cost_store.budget_actuals(conn, filters, as_of)
        names = await cmdb.service_names(conn, (b["service_id"] for b in found))
        return costs.cost_rows(found, lines, spent, names, as_of)
    if name == "change-costs":
        stated = await change_cost_store.change_costs(conn, filters)
        names = await cmdb.service_names(conn, {c["service_id"] for c in stated if c["service_id"] is not None})
        return change_costs.change_cost_rows(stated, names)
    if name == "workload":
        return report_rows.workload_rows(*await incidents.workload_groups(conn, filters))
    raise NotFound(f"no report named {name!r}")


async def _significant_events(conn: AsyncConnection, filters: ReportFilters) -> figures.Result:
    names = await cmdb.service_names(conn)
    covered = await continuity_store.plan_services(conn)
    invoked = continuity.invocation_rows(await continuity_store.invocations(conn, filters), covered, names)
    return significant_events_report(
        await significant_events.major_incidents(conn, filters),
        await significant_events.production_deployments(conn, filters),
        await significant_events.emergency_changes(conn, filters),
        await significant_events.change_services(conn),
        await significant_events.change_numbers(conn),
        names,
        invoked,
    )


async def _continuity(conn: AsyncConnection, filters: ReportFilters, now: datetime) -> figures.Result:
    covered = await continuity_store.plan_services(conn)
    names = await cmdb.service_names(conn, {s for ids in covered.values() for s in ids})
    counts = await continuity_store.invocation_counts(conn)
    return continuity.continuity_rows(await continuity_store.plans(conn, filters), covered, counts, names, now)


def to_csv(definition: ReportDefinition, rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(definition.columns), extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else _json_value(v) for k, v in row.items()})
    return out.getvalue()
