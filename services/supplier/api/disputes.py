"""Dispute routes: open, move through the lifecycle to closure, history."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from services.supplier.api.common import IfMatch, Manager, Reader
from services.supplier.domain.governance import DisputeAction, DisputeStatus
from services.supplier.schemas import DisputeCreate, DisputePage, DisputeRead, DisputeStep, HistoryEntry
from services.supplier.store import DisputeRepository
from services.supplier.store.governance import list_disputes
from services.supplier.store.history import history_of
from services.supplier.usecases import Edit, governance
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.errors import NotFound
from shared.http import etag, expected_version

router = APIRouter(prefix="/api/v1/disputes", tags=["disputes"])


@router.post("", status_code=201, response_model=DisputeRead)
async def open_dispute(body: DisputeCreate, uow: UnitOfWorkDep, who: Manager, response: Response) -> DisputeRead:
    item = await governance.open_dispute(
        governance.OpenDispute(
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
    response.headers["Location"] = f"{router.prefix}/{item.id}"
    response.headers["ETag"] = etag(item.version)
    return DisputeRead.of(item)


@router.get("/{dispute_id}", response_model=DisputeRead)
async def get_dispute(dispute_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> DisputeRead:
    item = await DisputeRepository(conn).get(dispute_id)
    if item is None:
        raise NotFound(f"dispute {dispute_id} does not exist")
    response.headers["ETag"] = etag(item.version)
    return DisputeRead.of(item)


@router.get("", response_model=DisputePage)
async def list_all_disputes(
    conn: ReadConnectionDep,
    _: Reader,
    supplier_id: UUID | None = None,
    status: DisputeStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
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
    who: Manager,
    response: Response,
    body: DisputeStep | None = None,
    if_match: IfMatch = None,
) -> DisputeRead:
    step = body or DisputeStep()
    edit = Edit(who.subject, expected_version(if_match) if if_match else None)
    item = await governance.act_on_dispute(dispute_id, action, step.note, step.resolution, edit, uow)
    response.headers["ETag"] = etag(item.version)
    return DisputeRead.of(item)


@router.get("/{dispute_id}/history", response_model=list[HistoryEntry])
async def dispute_history(dispute_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[HistoryEntry]:
    if await DisputeRepository(conn).get(dispute_id) is None:
        raise NotFound(f"dispute {dispute_id} does not exist")
    return [HistoryEntry.of(r) for r in await history_of(conn, "dispute", dispute_id)]
