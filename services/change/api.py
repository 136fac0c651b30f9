"""Change routes: validate, call the use case, return a schema."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.change import store, usecases
from services.change.domain import ChangeStatus, ChangeType
from services.change.schemas import ChangeCreate, ChangePage, ChangeRead
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import NotFound

router = APIRouter(prefix="/api/v1/changes", tags=["changes"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Requester = Annotated[Principal, Depends(require_roles(Role.REQUESTER, Role.CHANGE_MANAGER))]


@router.post("", status_code=201, response_model=ChangeRead)
async def create_change(body: ChangeCreate, uow: UnitOfWorkDep, caller: Requester, response: Response) -> ChangeRead:
    fields = body.model_dump(exclude={"type", "affected_ci_ids"})
    cmd = usecases.DraftChange(
        **fields, change_type=body.type, affected_ci_ids=tuple(body.affected_ci_ids), requester=caller.subject
    )
    item = await usecases.draft_change(cmd, uow)
    response.headers["Location"] = f"{router.prefix}/{item.id}"
    response.headers["ETag"] = f'W/"{item.version}"'
    return ChangeRead.of(item)


@router.get("/{change_id}", response_model=ChangeRead)
async def get_change(change_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> ChangeRead:
    item = await store.get_change(conn, change_id)
    if item is None:
        raise NotFound(f"change {change_id} does not exist")
    response.headers["ETag"] = f'W/"{item.version}"'
    return ChangeRead.of(item)


@router.get("", response_model=ChangePage)
async def list_changes(
    conn: ReadConnectionDep,
    _: Reader,
    status: ChangeStatus | None = None,
    change_type: Annotated[ChangeType | None, Query(alias="type")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ChangePage:
    items, total = await store.list_changes(
        conn,
        status=status.value if status else None,
        change_type=change_type.value if change_type else None,
        limit=limit,
        offset=offset,
    )
    return ChangePage(items=[ChangeRead.of(c) for c in items], total=total, limit=limit, offset=offset)
