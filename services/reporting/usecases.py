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
        await uow.commit()
    return RebuildResult(events=events, patches=patches)


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
        return figures.service_levels_rows(groups, await store.service_names(conn))
    if name == "incidents":
        found = [r._mapping for r in await store.incidents(conn, filters)]
        return figures.incidents_report(found, await store.service_names(conn), now)
    if name == "requests":
        return figures.requests_report([r._mapping for r in await store.requests(conn, filters)])
    if name == "problems":
        found = [r._mapping for r in await store.problems(conn, filters)]
        recurring = [r._mapping for r in await store.recurring_incidents(conn, filters)]
        return figures.problems_report(found, recurring)
    if name == "changes":
        found = [r._mapping for r in await store.changes(conn, filters)]
        return figures.changes_report(found, await store.incidents_caused_by_change(conn))
    if name == "dora":
        window = _window(filters, now)
        unbounded = ReportFilters(service_id=filters.service_id)
        deployments = [r._mapping for r in await store.deployments(conn, filters)]
        changes = [r._mapping for r in await store.changes(conn, unbounded, by="")]
        services = await store.change_services(conn)
        if filters.service_id is not None:
            wanted = str(filters.service_id)
            services = {c: {s for s in ss if s == wanted} for c, ss in services.items()}
        causing = set(await store.incidents_caused_by_change(conn))
        outages = [r._mapping for r in await store.outage_incidents(conn, filters)]
        names = await store.service_names(conn)
        return figures.dora_report(window, deployments, changes, services, causing, outages, names)
    if name == "availability":
        window = _window(filters, now)
        outages = [r._mapping for r in await store.outage_incidents(conn, filters)]
        return figures.availability_report(
            window, outages, await store.services(conn, filters), await store.service_names(conn), availability_target
        )
    if name == "cmdb":
        cis = [r._mapping for r in await store.cis(conn, filters)]
        return figures.cmdb_report(cis, [r._mapping for r in await store.cmdb_findings(conn, filters)])
    if name == "suppliers":
        return figures.suppliers_rows(await store.supplier_scorecards(conn, filters, now))
    if name == "hotspots":
        found = [r._mapping for r in await store.incidents(conn, filters)]
        return figures.hotspots_report(found, await store.service_names(conn))
    if name == "workload":
        found = [r._mapping for r in await store.incidents(conn, filters)]
        requests = [r._mapping for r in await store.requests(conn, filters)]
        return figures.workload_report(found, requests, filters.period or "day")
    raise NotFound(f"no report named {name!r}")


async def _significant_events(conn: AsyncConnection, filters: ReportFilters) -> figures.Result:
    return significant_events_report(
        await store_significant.major_incidents(conn, filters),
        await store_significant.production_deployments(conn, filters),
        await store_significant.emergency_changes(conn, filters),
        await store.change_services(conn),
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
