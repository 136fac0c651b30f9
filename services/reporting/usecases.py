"""Reporting use cases: project events, rebuild the projections, produce reports (scheduled runs:
governance/usecases.py)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import store, store_significant
from services.reporting.domain import figures
from services.reporting.domain.definitions import (
    BY_NAME,
    DEFINITIONS,
    ReportDefinition,
    ReportFilters,
)
from services.reporting.domain.facts import Patch, patches_for
from services.reporting.domain.significant_events import significant_events_report
from shared.errors import NotFound, RuleViolation
from shared.events import CloudEvent
from shared.uow import UnitOfWork

DEFAULT_WINDOW = timedelta(days=30)


# Projection


async def project(conn: AsyncConnection, events: Sequence[CloudEvent]) -> int:
    """Record new events in the log and merge what they say into the fact tables."""
    if len(events) == 1:
        fresh = list(events) if await store.record_event(conn, events[0]) else []
    else:
        fresh = await store.record_events(conn, events)
    patches: list[Patch] = [p for e in fresh for p in patches_for(e)]
    await store.apply_patches(conn, patches)
    return len(fresh)


@dataclass(frozen=True)
class RebuildResult:
    events: int
    patches: int


async def rebuild(uow: UnitOfWork, *, batch_size: int = 2000) -> RebuildResult:
    """Empty every fact table and replay the whole log into them, in one transaction (readers see
    the old projections until it commits; consumers wait for it on the fact tables' lock)."""
    async with uow:
        conn = uow.connection
        await store.clear_projections(conn)
        events = patches = 0
        async for batch in store.log_batches(conn, batch_size):
            events += len(batch)
            patches += await store.apply_patches(conn, [p for e in batch for p in patches_for(e)])
        await store.compact_service_level_days(conn)  # the replay's changes, merged before anyone reads them
        await uow.commit()
    return RebuildResult(events=events, patches=patches)


async def compact_service_level_days(unit_of_work: Callable[[], UnitOfWork]) -> int:
    """Merge the daily service-level figures' changes (a periodic job; safe on several replicas)."""
    async with unit_of_work() as uow:
        merged = await store.compact_service_level_days(uow.connection)
        await uow.commit()
    return merged


# Reports


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
) -> Report:
    d = definition(name)
    check_filters(filters)
    now = now or datetime.now(UTC)
    rows, totals = await _figures(conn, name, filters, now, availability_target)
    return Report(definition=d, filters=filters, generated_at=now, rows=rows, totals=totals)


async def _figures(
    conn: AsyncConnection,
    name: str,
    filters: ReportFilters,
    now: datetime,
    availability_target: Callable[[str], float],
) -> figures.Result:
    if name == "significant-events":
        return await _significant_events(conn, filters)
    if name == "service-levels":
        groups = await store.service_level_groups(conn, filters)
        return figures.service_levels_rows(groups, await store.service_names(conn, (g["service_id"] for g in groups)))
    if name == "incidents":
        found = await store.incident_groups(conn, filters, now)
        majors = await store.major_incident_numbers(conn, filters)
        names = await store.service_names(conn, (g["service_id"] for g in found))
        return figures.incidents_rows(found, majors, names, now)
    if name == "requests":
        return figures.requests_rows(await store.request_groups(conn, filters))
    if name == "problems":
        return figures.problems_rows(*await store.problem_groups(conn, filters))
    if name == "changes":
        return figures.changes_rows(await store.change_groups(conn, filters))
    if name == "dora":
        window = _window(filters, now)
        deployments = await store.dora_deployments(conn, filters, window)
        implemented = await store.dora_changes(conn, filters, window)
        services: dict[str, set[str]] = {}
        for c in implemented:
            services.setdefault(str(c["change_id"]), set()).add(str(c["service_id"]))
        changes = list({c["change_id"]: c for c in implemented}.values())
        causing = {str(d["change_id"]) for d in deployments if d["caused_incident"]}
        outages = await store.outage_incidents(conn, filters, window, resolved_in_window=True)
        ids = {d["service_id"] for d in deployments} | {o["service_id"] for o in outages}
        ids |= {s for named in services.values() for s in named}
        names = await store.service_names(conn, ids)
        return figures.dora_report(window, deployments, changes, services, causing, outages, names)
    if name == "availability":
        window = _window(filters, now)
        outages = await store.outage_incidents(conn, filters, window)
        services_ = await store.services(conn, filters)
        names = await store.service_names(conn, {*services_, *(o["service_id"] for o in outages)})
        return figures.availability_report(window, outages, services_, names, availability_target)
    if name == "cmdb":
        return figures.cmdb_rows(*await store.cmdb_groups(conn, filters))
    if name == "suppliers":
        return figures.suppliers_rows(await store.supplier_scorecards(conn, filters, now))
    if name == "hotspots":
        cis, totals = await store.hotspot_groups(conn, filters, figures.HOTSPOT_ROWS)
        names = await store.service_names(conn, {i for c in cis for i in (c["ci_id"], c["service_id"])})
        return figures.hotspots_rows(cis, totals, names)
    if name == "workload":
        return figures.workload_rows(*await store.workload_groups(conn, filters))
    raise NotFound(f"no report named {name!r}")


async def _significant_events(conn: AsyncConnection, filters: ReportFilters) -> figures.Result:
    return significant_events_report(
        await store_significant.major_incidents(conn, filters),
        await store_significant.production_deployments(conn, filters),
        await store_significant.emergency_changes(conn, filters),
        await store_significant.change_services(conn),
        await store_significant.change_numbers(conn),
        await store.service_names(conn),
    )


def to_csv(definition: ReportDefinition, rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(definition.columns), extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else _json_value(v) for k, v in row.items()})
    return out.getvalue()
