"""Stored run use cases: produce the agreed reports on schedule, read a stored run back as it was
produced, and record findings and the actions decided on a run."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import events
from services.reporting.domain import agreements as domain
from services.reporting.domain.definitions import DEFINITIONS
from services.reporting.domain.improvements import ImprovementKind, ImprovementSource
from services.reporting.domain.outages import DEFAULT_THRESHOLD
from services.reporting.domain.report_filters import ReportFilters, last_complete_period
from services.reporting.store import agreements as agreements_store
from services.reporting.store import distribution as distribution_store
from services.reporting.store import runs as store
from services.reporting.usecases import improvements
from services.reporting.usecases.reports import definition, produce, to_csv
from shared.errors import NotFound
from shared.uow import UnitOfWork

# Scheduled runs


async def run_scheduled_reports(
    unit_of_work: Callable[[], UnitOfWork],
    now: datetime,
    *,
    availability_target: Callable[[str], float] = lambda _: 99.5,
    outage_threshold: timedelta = DEFAULT_THRESHOLD,
) -> list[str]:
    """Produce the last complete period (by its frequency) of each *agreed* report once; returns
    the reports run. Each run records the agreement version in force and its content's SHA-256,
    and gets one pending delivery per recipient of that version's distribution list.

    The run, its deliveries and its `report.run_completed.v1` (in the outbox) are one transaction.
    Several replicas may run this at once: the unique (report, frequency, period_start) makes the
    second insert a no-op (and so adds no second set of deliveries and no second event).
    """
    async with unit_of_work() as uow:
        agreements = await agreements_store.latest_versions(uow.connection)
    made: list[str] = []
    for d in DEFINITIONS:
        agreed = domain.scheduled(agreements.get(d.name, []))
        if agreed is None:
            continue  # ISO/IEC 20000-1 6.2: only agreed report definitions are scheduled
        start, end = last_complete_period(d.frequency, now)
        async with unit_of_work() as uow:
            conn = uow.connection
            if await store.run_exists(conn, d.name, d.frequency, start):
                continue
            filters = ReportFilters(start=start, end=end)
            report = await produce(
                conn,
                d.name,
                filters,
                now=now,
                availability_target=availability_target,
                outage_threshold=outage_threshold,
            )
            body = report.as_json()
            run_id = uuid.uuid4()
            row = {
                "run_id": run_id,
                "report": d.name,
                "frequency": d.frequency,
                "period_start": start,
                "period_end": end,
                "generated_at": now,
                "row_count": len(report.rows),
                "body": body,
                "agreement_version": agreed.version,
                "content_sha256": domain.content_sha256(body),
            }
            if await store.insert_run(conn, row):
                recipients = agreed.distribution_list
                await distribution_store.add_distributions(
                    conn, run_id, recipients, now, [uuid.uuid4() for _ in recipients]
                )
                uow.emit(events.report_run_event(row, d, agreed), subject=str(run_id))
                await uow.commit()
                made.append(d.name)
    return made


def run_meta(run: Any) -> dict[str, Any]:
    r = run._mapping
    return {
        "id": str(r["run_id"]),
        "report": r["report"],
        "frequency": r["frequency"],
        "period_start": r["period_start"].isoformat(),
        "period_end": r["period_end"].isoformat(),
        "generated_at": r["generated_at"].isoformat(),
        "row_count": r["row_count"],
        "agreement_version": r["agreement_version"],
        "content_sha256": r["content_sha256"],
        "download": f"/api/v1/report-runs/{r['run_id']}/download",
    }


async def get_run(conn: AsyncConnection, run_id: uuid.UUID) -> Any:
    found = await store.get_run(conn, run_id)
    if found is None:
        raise NotFound(f"no report run {run_id}")
    return found


def finding_json(row: Any) -> dict[str, Any]:
    r = row._mapping
    return {
        "id": str(r["finding_id"]),
        "run_id": str(r["run_id"]),
        "text": r["text"],
        "actions": r["actions"],
        "recorded_by": r["recorded_by"],
        "recorded_at": r["recorded_at"].isoformat(),
    }


@dataclass(frozen=True)
class Action:
    action: str
    owner: str
    due: date
    communicated_to: tuple[str, ...]


async def add_finding(
    uow: UnitOfWork, run_id: uuid.UUID, *, text: str, actions: Sequence[Action], by: str, now: datetime
) -> dict[str, Any]:
    """Append a finding with the actions decided on it (never changed afterwards); each action
    enters the improvement register (source `report_finding`, `<finding id>/<n>`), owned and due
    as decided."""
    async with uow:
        conn = uow.connection
        if not await store.has_run(conn, run_id):
            raise NotFound(f"no report run {run_id}")
        row = {
            "finding_id": uuid.uuid4(),
            "run_id": run_id,
            "text": text,
            "actions": [
                {
                    "action": a.action,
                    "owner": a.owner,
                    "due": a.due.isoformat(),
                    "communicated_to": list(a.communicated_to),
                }
                for a in actions
            ],
            "recorded_by": by,
            "recorded_at": now,
        }
        await store.add_finding(conn, row)
        for index, a in enumerate(actions):
            entry = improvements.RaiseImprovement(
                kind=ImprovementKind.IMPROVEMENT,
                title=a.action[:200],
                description=text,
                source=ImprovementSource.REPORT_FINDING,
                source_ref=f"{row['finding_id']}/{index + 1}",
                owner=a.owner,
                target_date=a.due,
            )
            await improvements.raise_entry(conn, entry, uow, by)
        await uow.commit()
    fields = {k: v for k, v in row.items() if k not in ("finding_id", "run_id", "recorded_at")}
    return {**fields, "id": str(row["finding_id"]), "run_id": str(run_id), "recorded_at": now.isoformat()}


async def findings(conn: AsyncConnection, run_id: uuid.UUID) -> list[dict[str, Any]]:
    await get_run(conn, run_id)
    return [finding_json(r) for r in await store.findings(conn, run_id)]


async def run_download(conn: AsyncConnection, run_id: uuid.UUID, fmt: str) -> tuple[str, str]:
    """A stored run as (content, media type). JSON: the report as produced, plus `run` (which
    agreement version, the content hash) and `findings` (with their actions); the hash is over the
    report without those two keys. CSV: the rows only."""
    run = await get_run(conn, run_id)
    body: dict[str, Any] = run.body
    if fmt == "csv":
        return to_csv(definition(run.report), body["rows"]), "text/csv; charset=utf-8"
    notes = [finding_json(r) for r in await store.findings(conn, run_id)]
    return json.dumps({**body, "run": run_meta(run), "findings": notes}), "application/json"
