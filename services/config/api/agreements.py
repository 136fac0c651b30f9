"""CMDB routes, agreements (ISO/IEC 20000-1 6.1, 8.3.3): SLAs with customers and OLAs with internal
groups, as versioned documents; agreeing one (or retiring an agreed one) names an approved change."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.config.api.deps import POLICY, Caller
from services.config.domain.agreements import AgreementKind, AgreementStatus
from services.config.schemas.agreements import (
    AgreementCreate,
    AgreementMove,
    AgreementPage,
    AgreementRead,
    AgreementUpdate,
)
from services.config.store.agreements import get_agreement as load_agreement
from services.config.store.agreements import page_of_agreements
from services.config.usecases import agreements
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset, RequiredIfMatch
from shared.errors import found
from shared.http import created, expected_version, tagged

router = APIRouter(prefix="/api/v1/agreements", tags=["agreements"], dependencies=[Depends(POLICY.enforce)])


@router.post("", status_code=201, response_model=AgreementRead)
async def create_agreement(body: AgreementCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> AgreementRead:
    record = await agreements.draft_agreement(agreements.DraftAgreement(**body.values()), uow, who.subject)
    return created(response, f"{router.prefix}/{record.id}", record.version, AgreementRead.of(record))


@router.get("", response_model=AgreementPage)
async def list_agreements(
    conn: ReadConnectionDep,
    kind: AgreementKind | None = None,
    status: AgreementStatus | None = None,
    customer_id: UUID | None = None,
    number: Annotated[str | None, Query(pattern=r"^(SLA|OLA)[0-9]{7}$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AgreementPage:
    records, total = await page_of_agreements(
        conn,
        kind=kind.value if kind else None,
        status=status.value if status else None,
        customer_id=customer_id,
        number=number,
        limit=limit,
        offset=offset,
    )
    return AgreementPage(items=[AgreementRead.of(r) for r in records], total=total, limit=limit, offset=offset)


@router.get("/{agreement_id}", response_model=AgreementRead)
async def get_agreement(agreement_id: UUID, conn: ReadConnectionDep, response: Response) -> AgreementRead:
    record = found(await load_agreement(conn, agreement_id), f"agreement {agreement_id}")
    return tagged(response, record.version, AgreementRead.of(record))


@router.patch("/{agreement_id}", response_model=AgreementRead)
async def update_agreement(
    agreement_id: UUID, body: AgreementUpdate, uow: UnitOfWorkDep, response: Response, if_match: RequiredIfMatch = None
) -> AgreementRead:
    """A draft's terms; an agreed version is immutable (409): draft a new version instead."""
    record = await agreements.revise_agreement(agreement_id, body.values(), expected_version(if_match), uow)
    return tagged(response, record.version, AgreementRead.of(record))


@router.post("/{agreement_id}/agree", response_model=AgreementRead)
async def agree_agreement(
    agreement_id: UUID,
    body: AgreementMove,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> AgreementRead:
    """Agree a draft under an approved change (`change_number`) whose window is open and that
    names every service the agreement covers; the version in force is superseded."""
    record = await agreements.agree_agreement(
        agreement_id, body.change_number, expected_version(if_match), uow, who.subject
    )
    return tagged(response, record.version, AgreementRead.of(record))


@router.post("/{agreement_id}/retire", response_model=AgreementRead)
async def retire_agreement(
    agreement_id: UUID,
    body: AgreementMove,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> AgreementRead:
    """Withdraw a draft, or retire an agreed version under an approved change."""
    record = await agreements.retire_agreement(
        agreement_id, body.change_number, expected_version(if_match), uow, who.subject
    )
    return tagged(response, record.version, AgreementRead.of(record))


@router.post("/{agreement_id}/versions", status_code=201, response_model=AgreementRead)
async def create_agreement_version(
    agreement_id: UUID, uow: UnitOfWorkDep, who: Caller, response: Response
) -> AgreementRead:
    """Draft the next version of an agreed version, with its terms."""
    record = await agreements.next_version(agreement_id, uow, who.subject)
    return created(response, f"{router.prefix}/{record.id}", record.version, AgreementRead.of(record))
