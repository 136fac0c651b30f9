"""Stored run routes: the scheduled runs, a run as it was produced, findings and actions on a run."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from services.reporting.api.deps import POLICY, Caller, Format
from services.reporting.schemas.runs import FindingBody, FindingList, FindingRead, ReportRunPage, ReportRunRead
from services.reporting.store import distribution as distribution_store
from services.reporting.store import runs as store
from services.reporting.usecases import reports
from services.reporting.usecases import runs as usecases
from shared import clock
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Offset
from shared.http import JSON_OR_CSV, representation

router = APIRouter(prefix="/api/v1", tags=["report governance"], dependencies=[Depends(POLICY.enforce)])


def _run_read(row: Any, deliveries: dict[str, int]) -> ReportRunRead:
    meta = usecases.run_meta(row)
    return ReportRunRead.model_validate({**meta, "deliveries": deliveries})


@router.get("/report-runs", response_model=ReportRunPage, summary="Stored scheduled report runs, newest first")
async def list_report_runs(
    conn: ReadConnectionDep,
    report: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> ReportRunPage:
    if report is not None:
        reports.named_in_filter(report, field="report")
    rows, total = await store.list_runs(conn, report=report, limit=limit, offset=offset)
    counts = await distribution_store.distribution_counts(conn, [r.run_id for r in rows])
    items = [_run_read(r, counts.get(r.run_id, {})) for r in rows]
    return ReportRunPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/report-runs/{run_id}", response_model=ReportRunRead, summary="One stored run's record")
async def get_report_run(conn: ReadConnectionDep, run_id: UUID) -> ReportRunRead:
    run = await usecases.get_run(conn, run_id)
    counts = await distribution_store.distribution_counts(conn, [run_id])
    return _run_read(run, counts.get(run_id, {}))


@router.get(
    "/report-runs/{run_id}/download",
    summary="A stored run as it was produced, with its findings (JSON), or its rows (CSV)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def download_report_run(
    request: Request, conn: ReadConnectionDep, run_id: UUID, format: Format = "json"
) -> Response:
    chosen = "csv" if representation(request, JSON_OR_CSV) == "csv" else "json"
    content, media_type = await usecases.run_download(conn, run_id, chosen)
    headers = {"Content-Disposition": f'attachment; filename="report-run-{run_id}.{chosen}"'}
    return Response(content, media_type=media_type, headers=headers)


@router.get("/report-runs/{run_id}/findings", response_model=FindingList, summary="Findings and actions on a run")
async def list_findings(conn: ReadConnectionDep, run_id: UUID) -> FindingList:
    return FindingList.model_validate({"items": await usecases.findings(conn, run_id)})


@router.post(
    "/report-runs/{run_id}/findings",
    response_model=FindingRead,
    status_code=201,
    summary="Record a finding on a run and the actions decided (append-only)",
)
async def add_finding(uow: UnitOfWorkDep, who: Caller, run_id: UUID, body: FindingBody) -> FindingRead:
    actions = [usecases.Action(a.action, a.owner, a.due, tuple(a.communicated_to)) for a in body.actions]
    found = await usecases.add_finding(uow, run_id, text=body.text, actions=actions, by=who.subject, now=clock.now())
    return FindingRead.model_validate(found)
