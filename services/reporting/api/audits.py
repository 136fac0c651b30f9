"""Reporting routes, internal audits (ISO/IEC 20000-1 4.5.4.2): the audit programme, its audits,
their findings and corrective actions, and the improvement register entry a finding raises."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response

from services.reporting.api.deps import POLICY, Caller
from services.reporting.domain.audits import AuditAction
from services.reporting.schemas.audits import (
    AuditActionBody,
    AuditCreate,
    AuditPage,
    AuditRead,
    FindingBody,
    ProgrammeCreate,
    ProgrammePage,
    ProgrammeRead,
)
from services.reporting.schemas.service_reviews import ActionMove
from services.reporting.store.audits import get_audit, get_programme, page_of_audits, page_of_programmes
from services.reporting.usecases import audits
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset, RequiredIfMatch
from shared.errors import found
from shared.http import created, expected_version, tagged

router = APIRouter(prefix="/api/v1", tags=["internal audits"], dependencies=[Depends(POLICY.enforce)])
Index = Annotated[int, Path(ge=0, le=99)]
Status = Literal["planned", "in_progress", "reported", "closed", "cancelled"]


@router.post("/audit-programmes", status_code=201, response_model=ProgrammeRead)
async def plan_audit_programme(
    body: ProgrammeCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> ProgrammeRead:
    programme = await audits.plan_programme(audits.PlanProgramme(**body.model_dump()), uow, who.subject)
    response.headers["Location"] = f"{router.prefix}/audit-programmes/{programme.id}"
    return ProgrammeRead.of(programme)


@router.get("/audit-programmes", response_model=ProgrammePage)
async def list_audit_programmes(conn: ReadConnectionDep, limit: Limit = 50, offset: Offset = 0) -> ProgrammePage:
    items, total = await page_of_programmes(conn, limit=limit, offset=offset)
    return ProgrammePage(items=[ProgrammeRead.of(p) for p in items], total=total, limit=limit, offset=offset)


@router.get("/audit-programmes/{programme_id}", response_model=ProgrammeRead)
async def get_audit_programme(programme_id: UUID, conn: ReadConnectionDep) -> ProgrammeRead:
    return ProgrammeRead.of(found(await get_programme(conn, programme_id), f"audit programme {programme_id}"))


@router.post("/audits", status_code=201, response_model=AuditRead)
async def plan_audit(body: AuditCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> AuditRead:
    cmd = audits.PlanAudit(**body.model_dump(exclude={"auditees"}), auditees=tuple(body.auditees))
    audit = await audits.plan_audit(cmd, uow, who.subject)
    return created(response, f"{router.prefix}/audits/{audit.id}", audit.version, AuditRead.of(audit))


@router.get("/audits", response_model=AuditPage)
async def list_audits(
    conn: ReadConnectionDep,
    programme_id: UUID | None = None,
    status: Status | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AuditPage:
    items, total = await page_of_audits(conn, programme_id=programme_id, status=status, limit=limit, offset=offset)
    return AuditPage(items=[AuditRead.of(a) for a in items], total=total, limit=limit, offset=offset)


@router.get("/audits/{audit_id}", response_model=AuditRead)
async def get_internal_audit(audit_id: UUID, conn: ReadConnectionDep, response: Response) -> AuditRead:
    audit = found(await get_audit(conn, audit_id), f"audit {audit_id}")
    return tagged(response, audit.version, AuditRead.of(audit))


@router.post("/audits/{audit_id}/actions", response_model=AuditRead)
async def act_on_audit(
    audit_id: UUID,
    body: AuditActionBody,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> AuditRead:
    """Start, report (with the summary), close (every corrective action settled) or cancel."""
    action = AuditAction(body.action)
    audit = await audits.act(audit_id, action, expected_version(if_match), uow, who.subject, summary=body.summary)
    return tagged(response, audit.version, AuditRead.of(audit))


@router.post("/audits/{audit_id}/findings", response_model=AuditRead)
async def add_audit_finding(
    audit_id: UUID,
    body: FindingBody,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> AuditRead:
    audit = await audits.add_finding(audit_id, body.finding(), expected_version(if_match), uow, who.subject)
    return tagged(response, audit.version, AuditRead.of(audit))


@router.post("/audits/{audit_id}/findings/{index}/corrective-action/status", response_model=AuditRead)
async def move_corrective_action(
    audit_id: UUID,
    index: Index,
    body: ActionMove,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> AuditRead:
    version = expected_version(if_match)
    audit = await audits.move_corrective_action(audit_id, index, body.status, version, uow, who.subject)
    return tagged(response, audit.version, AuditRead.of(audit))


@router.post("/audits/{audit_id}/findings/{index}/improvement", response_model=AuditRead)
async def raise_finding_improvement(
    audit_id: UUID,
    index: Index,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> AuditRead:
    """An improvement register entry for the finding (source audit_finding, `AUD.../n`)."""
    audit, _ = await audits.raise_improvement(audit_id, index, expected_version(if_match), uow, who.subject)
    return tagged(response, audit.version, AuditRead.of(audit))
