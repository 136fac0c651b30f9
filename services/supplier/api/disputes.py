"""Dispute routes: open, move through the lifecycle to closure, history."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Response

from services.supplier.api.deps import POLICY, Caller, CurrentDispute
from services.supplier.domain.disputes import DisputeAction, DisputeStatus
from services.supplier.domain.records import Edit
from services.supplier.schemas.disputes import DisputeCreate, DisputePage, DisputeRead, DisputeStep
from services.supplier.schemas.history import HistoryEntry
from services.supplier.store.disputes import list_disputes
from services.supplier.store.history import history_of
from services.supplier.usecases import disputes as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import IfMatch, Limit, Offset, optional_version
from shared.http import created, tagged

router = APIRouter(prefix="/api/v1/disputes", tags=["disputes"], dependencies=[Depends(POLICY.enforce)])


@router.post("", status_code=201, response_model=DisputeRead)
async def open_dispute(body: DisputeCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> DisputeRead:
    item = await usecases.open_dispute(
        usecases.OpenDispute(
            supplier_id=body.supplier_id,
            contract_id=body.contract_id,
            title=body.title,
            description=body.description,
            owner=body.owner,
            amount=body.amount,
            currency=body.currency,
        ),
        who.subject,
        uow,
    )
    return created(response, f"{router.prefix}/{item.id}", item.version, DisputeRead.of(item))


@router.get("/{dispute_id}", response_model=DisputeRead)
async def get_dispute(item: CurrentDispute, response: Response) -> DisputeRead:
    return tagged(response, item.version, DisputeRead.of(item))


@router.get("", response_model=DisputePage)
async def list_all_disputes(
    conn: ReadConnectionDep,
    supplier_id: UUID | None = None,
    status: DisputeStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DisputePage:
    items, total = await list_disputes(
        conn, supplier_id=supplier_id, status=status.value if status else None, limit=limit, offset=offset
    )
    return DisputePage(items=[DisputeRead.of(d) for d in items], total=total, limit=limit, offset=offset)


@router.post("/{dispute_id}/{action}", response_model=DisputeRead)
async def act(
    dispute_id: UUID,
    action: DisputeAction,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    body: DisputeStep | None = None,
    if_match: IfMatch = None,
) -> DisputeRead:
    step = body or DisputeStep()
    edit = Edit(who.subject, optional_version(if_match))
    item = await usecases.act_on_dispute(dispute_id, action, step.note, step.resolution, edit, uow)
    return tagged(response, item.version, DisputeRead.of(item))


@router.get("/{dispute_id}/history", response_model=list[HistoryEntry])
async def dispute_history(item: CurrentDispute, conn: ReadConnectionDep) -> list[HistoryEntry]:
    return [HistoryEntry.of(r) for r in await history_of(conn, "dispute", item.id)]
