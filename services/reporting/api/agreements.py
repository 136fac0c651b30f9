"""Report agreement routes: where each report's agreement stands, its versions, and proposing,
agreeing and retiring one."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from services.reporting.api.deps import POLICY, Caller, sent_version
from services.reporting.domain.agreements import AgreementVersion, Recipient
from services.reporting.schemas.agreements import (
    AgreementDecision,
    AgreementProposal,
    AgreementRead,
    AgreementSummaries,
    AgreementVersionPage,
    AgreementVersionRead,
    Retirement,
)
from services.reporting.usecases import agreements as usecases
from shared import clock
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import IfMatch, Offset, RequiredIfMatch
from shared.http import etag

router = APIRouter(prefix="/api/v1", tags=["report governance"], dependencies=[Depends(POLICY.enforce)])


def _version_read(v: AgreementVersion) -> AgreementVersionRead:
    return AgreementVersionRead.model_validate(v.as_record())


def _agreement_response(view: usecases.AgreementView) -> JSONResponse:
    body = AgreementRead(
        **_version_read(view.latest).model_dump(),
        in_force_version=view.in_force.version if view.in_force else None,
        scheduled=view.scheduled,
        allowed_actions=view.allowed_actions,
        definition_changed=view.definition_changed,
    )
    return JSONResponse(body.model_dump(mode="json"), headers={"ETag": etag(view.latest.version)})


@router.get("/report-agreements", response_model=AgreementSummaries, summary="Where each report's agreement stands")
async def list_agreements(conn: ReadConnectionDep) -> AgreementSummaries:
    items = [
        {
            "report": s.report,
            "version": s.latest.version if s.latest else None,
            "status": s.latest.status if s.latest else None,
            "in_force_version": s.in_force.version if s.in_force else None,
            "scheduled": s.scheduled,
        }
        for s in await usecases.agreement_summaries(conn)
    ]
    return AgreementSummaries.model_validate({"items": items})


@router.get(
    "/reports/{name}/agreement", response_model=AgreementRead, summary="A report's agreement: the latest version"
)
async def get_agreement(conn: ReadConnectionDep, name: str) -> JSONResponse:
    return _agreement_response(await usecases.agreement(conn, name))


@router.get(
    "/reports/{name}/agreement/versions",
    response_model=AgreementVersionPage,
    summary="Every version of a report's agreement, oldest first",
)
async def list_agreement_versions(
    conn: ReadConnectionDep,
    name: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> AgreementVersionPage:
    found, total = await usecases.agreement_versions(conn, name, limit=limit, offset=offset)
    return AgreementVersionPage(items=[_version_read(v) for v in found], total=total, limit=limit, offset=offset)


@router.get("/reports/{name}/agreement/versions/{version}", response_model=AgreementVersionRead)
async def get_agreement_version(
    conn: ReadConnectionDep, name: str, version: Annotated[int, Path(ge=1)]
) -> AgreementVersionRead:
    return _version_read(await usecases.agreement_version(conn, name, version))


@router.put(
    "/reports/{name}/agreement",
    response_model=AgreementRead,
    summary="Propose (a new version of) a report's agreement: a draft, until agreed",
)
async def propose_agreement(
    uow: UnitOfWorkDep, who: Caller, name: str, body: AgreementProposal, if_match: IfMatch = None
) -> JSONResponse:
    view = await usecases.propose(
        uow,
        name,
        expected=sent_version(if_match),
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
    uow: UnitOfWorkDep, who: Caller, name: str, body: AgreementDecision, if_match: RequiredIfMatch = None
) -> JSONResponse:
    agreed_at = body.agreed_at
    if agreed_at is not None and agreed_at.tzinfo is None:
        agreed_at = agreed_at.replace(tzinfo=UTC)
    view = await usecases.agree(
        uow,
        name,
        expected=sent_version(if_match),
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
    uow: UnitOfWorkDep, who: Caller, name: str, body: Retirement, if_match: RequiredIfMatch = None
) -> JSONResponse:
    view = await usecases.retire(
        uow, name, expected=sent_version(if_match), reason=body.reason, by=who.subject, now=clock.now()
    )
    return _agreement_response(view)
