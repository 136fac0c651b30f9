"""Report governance use cases: agree report definitions, produce the agreed reports on schedule,
record findings and actions on their runs, and read it all back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import store, usecases
from services.reporting.domain.definitions import DEFINITIONS, ReportFilters, last_complete_period
from services.reporting.governance import domain
from services.reporting.governance import store as gstore
from services.reporting.governance.domain import AgreementVersion, Recipient
from shared.errors import NotFound, PreconditionFailed, PreconditionRequired
from shared.uow import UnitOfWork

# Agreements


@dataclass(frozen=True)
class AgreementView:
    latest: AgreementVersion
    in_force: AgreementVersion | None
    scheduled: bool
    allowed_actions: list[str]
    definition_changed: bool
    """The report's definition in the code differs from the one this version records."""


def _view(versions: Sequence[AgreementVersion]) -> AgreementView:
    latest = versions[-1]
    in_force = domain.in_force(versions)
    current = usecases.definition_json(usecases.definition(latest.report))
    return AgreementView(
        latest=latest,
        in_force=in_force,
        scheduled=domain.scheduled(versions) is not None,
        allowed_actions=domain.allowed_actions(latest),
        definition_changed=dict(latest.definition) != current,
    )


async def agreement(conn: AsyncConnection, name: str) -> AgreementView:
    usecases.definition(name)
    found = await gstore.versions(conn, name)
    if not found:
        raise NotFound(f"report {name!r} has no agreement yet; propose one (PUT .../agreement)", report=name)
    return _view(found)


async def agreement_version(conn: AsyncConnection, name: str, version: int) -> AgreementVersion:
    usecases.definition(name)
    for v in await gstore.versions(conn, name):
        if v.version == version:
            return v
    raise NotFound(f"report {name!r} has no agreement version {version}")


async def agreement_versions(
    conn: AsyncConnection, name: str, *, limit: int, offset: int
) -> tuple[list[AgreementVersion], int]:
    usecases.definition(name)
    return await gstore.version_page(conn, name, limit=limit, offset=offset)


@dataclass(frozen=True)
class AgreementSummary:
    report: str
    latest: AgreementVersion | None
    in_force: AgreementVersion | None
    scheduled: bool


async def agreement_summaries(conn: AsyncConnection) -> list[AgreementSummary]:
    """Every defined report with where its agreement stands (none yet, draft, agreed, retired)."""
    found = await gstore.latest_versions(conn)
    summaries = []
    for d in DEFINITIONS:
        versions = found.get(d.name, [])
        summaries.append(
            AgreementSummary(
                report=d.name,
                latest=versions[-1] if versions else None,
                in_force=domain.in_force(versions),
                scheduled=domain.scheduled(versions) is not None,
            )
        )
    return summaries


def _check_version(latest: AgreementVersion | None, expected: int | None, name: str) -> None:
    if latest is None:
        if expected is not None:
            raise PreconditionFailed(f"report {name!r} has no agreement yet: send no If-Match to propose the first")
        return
    if expected is None:
        raise PreconditionRequired(
            f'send If-Match with the ETag of the agreement you read (If-Match: W/"{latest.version}")'
        )
    if expected != latest.version:
        raise PreconditionFailed(
            f"the agreement of {name!r} is at version {latest.version}, not {expected}; read it again"
        )


async def _write(
    uow: UnitOfWork, name: str, expected: int | None, make: Callable[[AgreementVersion | None], AgreementVersion]
) -> AgreementView:
    usecases.definition(name)
    async with uow:
        conn = uow.connection
        found = await gstore.versions(conn, name)
        latest = found[-1] if found else None
        _check_version(latest, expected, name)
        new = make(latest)
        await gstore.append_version(conn, new)
        await uow.commit()
    return _view([*found, new])


async def propose(
    uow: UnitOfWork,
    name: str,
    *,
    expected: int | None,
    owner: str,
    agreed_with: Sequence[str],
    distribution_list: Sequence[Recipient],
    reason: str,
    by: str,
    now: datetime,
) -> AgreementView:
    definition = usecases.definition_json(usecases.definition(name))
    return await _write(
        uow,
        name,
        expected,
        lambda latest: domain.propose(
            latest,
            report=name,
            owner=owner,
            agreed_with=agreed_with,
            distribution_list=distribution_list,
            definition=definition,
            reason=reason,
            by=by,
            at=now,
        ),
    )


async def agree(
    uow: UnitOfWork,
    name: str,
    *,
    expected: int | None,
    agreed_with: Sequence[str] | None,
    agreed_at: datetime | None,
    reason: str,
    by: str,
    now: datetime,
) -> AgreementView:
    return await _write(
        uow,
        name,
        expected,
        lambda latest: domain.agree(
            latest, report=name, agreed_with=agreed_with, agreed_at=agreed_at, reason=reason, by=by, at=now
        ),
    )


async def retire(
    uow: UnitOfWork, name: str, *, expected: int | None, reason: str, by: str, now: datetime
) -> AgreementView:
    return await _write(
        uow, name, expected, lambda latest: domain.retire(latest, report=name, reason=reason, by=by, at=now)
    )


# Scheduled runs


async def run_scheduled_reports(
    unit_of_work: Callable[[], UnitOfWork],
    now: datetime,
    *,
    availability_target: Callable[[str], float] = lambda _: 99.5,
) -> list[str]:
    """Produce the last complete period (by its frequency) of each *agreed* report once; returns
    the reports run. Each run records the agreement version in force and its content's SHA-256,
    and gets one pending delivery per recipient of that version's distribution list.

    Several replicas may run this at once: the unique (report, frequency, period_start) makes the
    second insert a no-op (and so adds no second set of deliveries).
    """
    async with unit_of_work() as uow:
        agreements = await gstore.latest_versions(uow.connection)
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
            report = await usecases.produce(conn, d.name, filters, now=now, availability_target=availability_target)
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
                await gstore.add_distributions(conn, run_id, recipients, now, [uuid.uuid4() for _ in recipients])
                await uow.commit()
                made.append(d.name)
    return made


# Runs: what they hold, findings and actions


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
    found = await gstore.run(conn, run_id)
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
    """Append a finding with the actions decided on it (never changed afterwards)."""
    async with uow:
        conn = uow.connection
        if not await gstore.run_exists(conn, run_id):
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
        await gstore.add_finding(conn, row)
        await uow.commit()
    fields = {k: v for k, v in row.items() if k not in ("finding_id", "run_id", "recorded_at")}
    return {**fields, "id": str(row["finding_id"]), "run_id": str(run_id), "recorded_at": now.isoformat()}


async def findings(conn: AsyncConnection, run_id: uuid.UUID) -> list[dict[str, Any]]:
    await get_run(conn, run_id)
    return [finding_json(r) for r in await gstore.findings(conn, run_id)]


async def distribution_log(conn: AsyncConnection, run_id: uuid.UUID) -> list[Any]:
    await get_run(conn, run_id)
    return await gstore.distributions(conn, run_id)


async def run_download(conn: AsyncConnection, run_id: uuid.UUID, fmt: str) -> tuple[str, str]:
    """A stored run as (content, media type). JSON: the report as produced, plus `run` (which
    agreement version, the content hash) and `findings` (with their actions); the hash is over the
    report without those two keys. CSV: the rows only."""
    run = await get_run(conn, run_id)
    body: dict[str, Any] = run.body
    if fmt == "csv":
        return usecases.to_csv(usecases.definition(run.report), body["rows"]), "text/csv; charset=utf-8"
    notes = [finding_json(r) for r in await gstore.findings(conn, run_id)]
    return json.dumps({**body, "run": run_meta(run), "findings": notes}), "application/json"
