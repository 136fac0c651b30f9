"""Contract routes: draft and edit, the lifecycle actions, amendments and history."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.supplier.api.deps import POLICY, Caller, CurrentContract
from services.supplier.domain.contracts import Contract, ContractStatus
from services.supplier.domain.records import Edit
from services.supplier.schemas.contracts import (
    Amend,
    AmendmentRead,
    ContractCreate,
    ContractPage,
    ContractRead,
    ContractTerms,
    Reason,
    Renewal,
)
from services.supplier.schemas.history import HistoryEntry
from services.supplier.store.contracts import amendments_of, list_contracts
from services.supplier.store.history import history_of
from services.supplier.usecases import contracts as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import Principal
from shared.deps import IfMatch, Limit, Offset, RequiredIfMatch, optional_version
from shared.http import etag, expected_version, tagged

router = APIRouter(prefix="/api/v1/contracts", tags=["contracts"], dependencies=[Depends(POLICY.enforce)])


def _answer(contract: Contract, response: Response) -> ContractRead:
    return tagged(response, contract.version, ContractRead.of(contract))


def _edit(who: Principal, if_match: str | None) -> Edit:
    """Lifecycle actions take If-Match when sent; edits and amendments require it."""
    return Edit(who.subject, optional_version(if_match))


@router.post("", status_code=201, response_model=ContractRead)
async def create_contract(body: ContractCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> ContractRead:
    contract = await usecases.draft_contract(body.supplier_id, body.values(), who.subject, uow)
    response.headers["Location"] = f"{router.prefix}/{contract.id}"
    return _answer(contract, response)


@router.get("/{contract_id}", response_model=ContractRead)
async def read_contract(contract: CurrentContract, response: Response) -> ContractRead:
    return _answer(contract, response)


@router.get("", response_model=ContractPage)
async def list_all_contracts(
    conn: ReadConnectionDep,
    supplier_id: UUID | None = None,
    status: ContractStatus | None = None,
    ci_id: Annotated[UUID | None, Query(description="Only contracts covering this CI")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ContractPage:
    items, total = await list_contracts(
        conn, supplier_id=supplier_id, status=status.value if status else None, ci_id=ci_id, limit=limit, offset=offset
    )
    return ContractPage(items=[ContractRead.of(c) for c in items], total=total, limit=limit, offset=offset)


@router.patch("/{contract_id}", response_model=ContractRead, summary="Edit a draft (a contract in force is amended)")
async def edit_contract(
    contract_id: UUID,
    body: ContractTerms,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> ContractRead:
    edit = Edit(who.subject, expected_version(if_match))
    return _answer(await usecases.edit_contract(contract_id, body.values(), edit, uow), response)


@router.post("/{contract_id}/activate", response_model=ContractRead)
async def activate(
    contract_id: UUID, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> ContractRead:
    return _answer(await usecases.activate_contract(contract_id, _edit(who, if_match), uow), response)


@router.post("/{contract_id}/cancel", response_model=ContractRead, summary="Withdraw a draft")
async def cancel(
    contract_id: UUID, body: Reason, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> ContractRead:
    return _answer(await usecases.cancel_contract(contract_id, body.reason, _edit(who, if_match), uow), response)


@router.post("/{contract_id}/amend", response_model=AmendmentRead, status_code=201)
async def amend(
    contract_id: UUID,
    body: Amend,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> AmendmentRead:
    edit = Edit(who.subject, expected_version(if_match))
    contract, amendment = await usecases.amend_contract(
        contract_id, body.changes.values(), body.reason, body.review_id, edit, uow
    )
    response.headers["ETag"] = etag(contract.version)
    response.headers["Location"] = f"{router.prefix}/{contract_id}/amendments/{amendment.number}"
    return AmendmentRead(
        contract_id=contract.id,
        number=amendment.number,
        reason=amendment.reason,
        changes={k: list(v) for k, v in amendment.changes.items()},
        review_id=amendment.review_id,
        actor=amendment.actor,
        at=amendment.at,
    )


@router.post("/{contract_id}/renew", response_model=ContractRead)
async def renew(
    contract_id: UUID, body: Renewal, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> ContractRead:
    contract = await usecases.renew_contract(contract_id, body.ends_on, body.reason, _edit(who, if_match), uow)
    return _answer(contract, response)


@router.post("/{contract_id}/terminate", response_model=ContractRead)
async def terminate(
    contract_id: UUID, body: Reason, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> ContractRead:
    return _answer(await usecases.terminate_contract(contract_id, body.reason, _edit(who, if_match), uow), response)


@router.get("/{contract_id}/amendments", response_model=list[AmendmentRead])
async def list_amendments(contract: CurrentContract, conn: ReadConnectionDep) -> list[AmendmentRead]:
    return [AmendmentRead.of(r) for r in await amendments_of(conn, contract.id)]


@router.get("/{contract_id}/history", response_model=list[HistoryEntry])
async def contract_history(contract: CurrentContract, conn: ReadConnectionDep) -> list[HistoryEntry]:
    return [HistoryEntry.of(r) for r in await history_of(conn, "contract", contract.id)]
