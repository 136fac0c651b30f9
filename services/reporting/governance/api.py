"""Report governance routes: agreements per report, stored runs, their distribution and findings."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from services.reporting import store, usecases
from services.reporting.governance import store as gstore
from services.reporting.governance import usecases as governance
from services.reporting.governance.domain import AgreementVersion, Recipient
from services.reporting.governance.schemas import (
    AgreementDecision,
    AgreementProposal,
    AgreementRead,
    AgreementSummaries,
    AgreementVersionPage,
    AgreementVersionRead,
    DeliveryLog,
    DeliveryRead,
    FindingBody,
    FindingList,
    FindingRead,
    ReportRunPage,
    ReportRunRead,
    Retirement,
)
from shared import clock
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.http import PROBLEM_RESPONSES, etag, expected_version

router = APIRouter(prefix="/api/v1", tags=["report governance"], responses=PROBLEM_RESPONSES)

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Manager = Annotated[Principal, Depends(require_roles(Role.SERVICE_LEVEL_MANAGER))]
"""Service reporting is part of service level management: the service level manager (or an admin)
records agreements, findings and actions."""
IfMatch = Annotated[str | None, Header(description='the ETag of the agreement you read, e.g. W/"2"')]
Format = Literal["json", "csv"]


def _version_read(v: AgreementVersion) -> AgreementVersionRead:
    return AgreementVersionRead.model_validate(v.as_record())


def _agreement_response(view: governance.AgreementView) -> JSONResponse:
    body = AgreementRead(
        **_version_read(view.latest).model_dump(),
        in_force_version=view.in_force.version if view.in_force else None,
        scheduled=view.scheduled,
        allowed_actions=view.allowed_actions,
        definition_changed=view.definition_changed,
    )
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": etag(view.latest.version)})


def _expected(if_match: str | None) -> int | None:
    return None if if_match is None else expected_version(if_match)


@router.get("/report-agreements", response_model=AgreementSummaries, summary="Where each report's agreement stands")
async def list_agreements(conn: ReadConnectionDep, _: Reader) -> AgreementSummaries:
    items = [
        {
            "report": s.report,
            "version": s.latest.version if s.latest else None,
            "status": s.latest.status if s.latest else None,
            "in_force_version": s.in_force.version if s.in_force else None,
            "scheduled": s.scheduled,
        }
        for s in await governance.agreement_summaries(conn)
    ]
    return AgreementSummaries.model_validate({"items": items})


@router.get(
    "/reports/{name}/agreement", response_model=AgreementRead, summary="A report's agreement: the latest version"
)
async def get_agreement(conn: ReadConnectionDep, _: Reader, name: str) -> JSONResponse:
    return _agreement_response(await governance.agreement(conn, name))


@router.get(
    "/reports/{name}/agreement/versions",
    response_model=AgreementVersionPage,
    summary="Every version of a report's agreement, oldest first",
)
async def list_agreement_versions(
    conn: ReadConnectionDep,
    _: Reader,
    name: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AgreementVersionPage:
    found, total = await governance.agreement_versions(conn, name, limit=limit, offset=offset)
    return AgreementVersionPage(items=[_version_read(v) for v in found], total=total, limit=limit, offset=offset)


@router.get("/reports/{name}/agreement/versions/{version}", response_model=AgreementVersionRead)
async def get_agreement_version(
    conn: ReadConnectionDep, _: Reader, name: str, version: Annotated[int, Path(ge=1)]
) -> AgreementVersionRead:
    return _version_read(await governance.agreement_version(conn, name, version))


@router.put(
    "/reports/{name}/agreement",
    response_model=AgreementRead,
    summary="Propose (a new version of) a report's agreement: a draft, until agreed",
)
async def propose_agreement(
    uow: UnitOfWorkDep, who: Manager, name: str, body: AgreementProposal, if_match: IfMatch = None
) -> JSONResponse:
    view = await governance.propose(
        uow,
        name,
        expected=_expected(if_match),
        owner=body.owner,
        agreed_with=body.agreed_with,
        distribution_list=[Recipient(d.recipient, d.channel) for d in body.distribution_list],
        reason=body.reason,
        by=who.subject,
        now=clock.now(),
    )
    return _agreement_response(view)


@router.post(
    "/reports/{name}/agreement/agree",
    response_model=AgreementRead,
    summary="Record that the interested parties agreed the draft; from now on the report is scheduled",
)
async def agree_agreement(
    uow: UnitOfWorkDep, who: Manager, name: str, body: AgreementDecision, if_match: IfMatch = None
) -> JSONResponse:
    agreed_at = body.agreed_at
    if agreed_at is not None and agreed_at.tzinfo is None:
        agreed_at = agreed_at.replace(tzinfo=UTC)
    view = await governance.agree(
        uow,
        name,
        expected=_expected(if_match),
        agreed_with=body.agreed_with,
        agreed_at=agreed_at,
        reason=body.reason,
        by=who.subject,
        now=clock.now(),
    )
    return _agreement_response(view)


@router.post(
    "/reports/{name}/agreement/retire",
    response_model=AgreementRead,
    summary="Retire a report: it is no longer scheduled",
)
async def retire_agreement(
    uow: UnitOfWorkDep, who: Manager, name: str, body: Retirement, if_match: IfMatch = None
) -> JSONResponse:
    view = await governance.retire(
        uow, name, expected=_expected(if_match), reason=body.reason, by=who.subject, now=clock.now()
    )
    return _agreement_response(view)


# Stored runs


def _run_read(row: Any, deliveries: dict[str, int]) -> ReportRunRead:
    meta = governance.run_meta(row)
    return ReportRunRead.model_validate({**meta, "deliveries": deliveries})


@router.get("/report-runs", response_model=ReportRunPage, summary="Stored scheduled report runs, newest first")
async def list_report_runs(
    conn: ReadConnectionDep,
    _: Reader,
    report: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReportRunPage:
    if report is not None:
        usecases.definition(report)
    rows, total = await store.list_runs(conn, report=report, limit=limit, offset=offset)
    counts = await gstore.distribution_counts(conn, [r.run_id for r in rows])
    items = [_run_read(r, counts.get(r.run_id, {})) for r in rows]
    return ReportRunPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/report-runs/{run_id}", response_model=ReportRunRead, summary="One stored run's record")
async def get_report_run(conn: ReadConnectionDep, _: Reader, run_id: UUID) -> ReportRunRead:
    run = await governance.get_run(conn, run_id)
    counts = await gstore.distribution_counts(conn, [run_id])
    return _run_read(run, counts.get(run_id, {}))


@router.get(
    "/report-runs/{run_id}/download",
    summary="A stored run as it was produced, with its findings (JSON), or its rows (CSV)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def download_report_run(conn: ReadConnectionDep, _: Reader, run_id: UUID, format: Format = "json") -> Response:
    content, media_type = await governance.run_download(conn, run_id, format)
    headers = {"Content-Disposition": f'attachment; filename="report-run-{run_id}.{format}"'}
    return Response(content, media_type=media_type, headers=headers)


@router.get("/report-runs/{run_id}/distribution", response_model=DeliveryLog, summary="The run's distribution log")
async def get_distribution(conn: ReadConnectionDep, _: Reader, run_id: UUID) -> DeliveryLog:
    rows = await governance.distribution_log(conn, run_id)
    fields: tuple[str, ...] = ("recipient", "channel", "status", "attempts", "last_error")
    fields += ("last_attempt_at", "next_attempt_at", "delivered_at")
    items = [DeliveryRead.model_validate({"id": r.distribution_id, **{f: r._mapping[f] for f in fields}}) for r in rows]
    return DeliveryLog(items=items)


@router.get("/report-runs/{run_id}/findings", response_model=FindingList, summary="Findings and actions on a run")
async def list_findings(conn: ReadConnectionDep, _: Reader, run_id: UUID) -> FindingList:
    return FindingList.model_validate({"items": await governance.findings(conn, run_id)})


@router.post(
    "/report-runs/{run_id}/findings",
    response_model=FindingRead,
    status_code=201,
    summary="Record a finding on a run and the actions decided (append-only)",
)
async def add_finding(uow: UnitOfWorkDep, who: Manager, run_id: UUID, body: FindingBody) -> FindingRead:
    actions = [governance.Action(a.action, a.owner, a.due, tuple(a.communicated_to)) for a in body.actions]
    found = await governance.add_finding(uow, run_id, text=body.text, actions=actions, by=who.subject, now=clock.now())
    return FindingRead.model_validate(found)
