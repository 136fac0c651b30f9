"""Access register routes (6.6.2): a supplier's access grants, listed and requested under the
supplier; each grant read, granted, reviewed and revoked on its own path, with its history."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Response

from services.supplier.api.deps import POLICY, Caller, CurrentAccessGrant, CurrentSupplier
from services.supplier.domain.access import GrantStatus, Review
from services.supplier.domain.records import Edit
from services.supplier.schemas.access import (
    AccessGrantCreate,
    AccessGrantPage,
    AccessGrantRead,
    GrantStep,
    ReviewBody,
    RevokeBody,
)
from services.supplier.schemas.history import HistoryEntry
from services.supplier.store.access import list_grants
from services.supplier.store.history import history_of
from services.supplier.usecases import access as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import IfMatch, Limit, Offset, optional_version
from shared.http import created, tagged

by_supplier = APIRouter(prefix="/api/v1/suppliers", tags=["access register"], dependencies=[Depends(POLICY.enforce)])
router = APIRouter(prefix="/api/v1/access-grants", tags=["access register"], dependencies=[Depends(POLICY.enforce)])


def _answer(grant: AccessGrantRead, version: int, response: Response) -> AccessGrantRead:
    return tagged(response, version, grant)


@by_supplier.post("/{supplier_id}/access-grants", status_code=201, response_model=AccessGrantRead)
async def request_access(
    supplier_id: UUID, body: AccessGrantCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> AccessGrantRead:
    grant = await usecases.request_access(
        usecases.RequestAccess(
            supplier_id=supplier_id,
            contract_id=body.contract_id,
            legal_basis=body.legal_basis,
            service_id=body.service_id,
            ci_id=body.ci_id,
            system=body.system,
            access_type=body.access_type,
            classification=body.classification,
            purpose=body.purpose,
            holders=tuple(body.holders),
            owner=body.owner,
            expires_on=body.expires_on,
            review_interval_days=body.review_interval_days,
        ),
        who.subject,
        uow,
    )
    return created(response, f"{router.prefix}/{grant.id}", grant.version, AccessGrantRead.of(grant))


@by_supplier.get("/{supplier_id}/access-grants", response_model=AccessGrantPage)
async def list_supplier_grants(
    supplier: CurrentSupplier,
    conn: ReadConnectionDep,
    status: GrantStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AccessGrantPage:
    items, total = await list_grants(
        conn, supplier_id=supplier.id, status=status.value if status else None, limit=limit, offset=offset
    )
    return AccessGrantPage(items=[AccessGrantRead.of(g) for g in items], total=total, limit=limit, offset=offset)


@router.get("", response_model=AccessGrantPage, summary="The access register across suppliers")
async def list_all_grants(
    conn: ReadConnectionDep,
    supplier_id: UUID | None = None,
    contract_id: UUID | None = None,
    status: GrantStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AccessGrantPage:
    items, total = await list_grants(
        conn,
        supplier_id=supplier_id,
        contract_id=contract_id,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )
    return AccessGrantPage(items=[AccessGrantRead.of(g) for g in items], total=total, limit=limit, offset=offset)


@router.get("/{grant_id}", response_model=AccessGrantRead)
async def get_grant(grant: CurrentAccessGrant, response: Response) -> AccessGrantRead:
    return _answer(AccessGrantRead.of(grant), grant.version, response)


@router.post("/{grant_id}/grant", response_model=AccessGrantRead, summary="Grant a requested access")
async def grant(
    grant_id: UUID,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    body: GrantStep | None = None,
    if_match: IfMatch = None,
) -> AccessGrantRead:
    edit = Edit(who.subject, optional_version(if_match))
    item = await usecases.grant_access(grant_id, (body or GrantStep()).note, edit, uow)
    return _answer(AccessGrantRead.of(item), item.version, response)


@router.post("/{grant_id}/review", response_model=AccessGrantRead, summary="Record a review: keep, reduce or revoke")
async def review(
    grant_id: UUID, body: ReviewBody, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> AccessGrantRead:
    decision = Review(
        outcome=body.outcome,
        notes=body.notes,
        holders=tuple(body.holders) if body.holders is not None else None,
        expires_on=body.expires_on,
    )
    item = await usecases.review_access(grant_id, decision, Edit(who.subject, optional_version(if_match)), uow)
    return _answer(AccessGrantRead.of(item), item.version, response)


@router.post("/{grant_id}/revoke", response_model=AccessGrantRead)
async def revoke(
    grant_id: UUID, body: RevokeBody, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> AccessGrantRead:
    edit = Edit(who.subject, optional_version(if_match))
    item = await usecases.revoke_access(grant_id, body.reason, edit, uow)
    return _answer(AccessGrantRead.of(item), item.version, response)


@router.get("/{grant_id}/history", response_model=list[HistoryEntry])
async def grant_history(grant: CurrentAccessGrant, conn: ReadConnectionDep) -> list[HistoryEntry]:
    return [HistoryEntry.of(r) for r in await history_of(conn, "access_grant", grant.id)]
