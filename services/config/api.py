"""Configuration item routes: validate, call the use case, return a schema."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.config import store, usecases
from services.config.domain import CIStatus, CIType
from services.config.schemas import ConfigItemCreate, ConfigItemPage, ConfigItemRead
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import NotFound

router = APIRouter(prefix="/api/v1/cis", tags=["configuration items"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Manager = Annotated[Principal, Depends(require_roles(Role.CONFIG_MANAGER))]


@router.post("", status_code=201, response_model=ConfigItemRead)
async def create_config_item(
    body: ConfigItemCreate, uow: UnitOfWorkDep, _: Manager, response: Response
) -> ConfigItemRead:
    cmd = usecases.RegisterConfigItem(
        **body.model_dump(exclude={"type", "identifiers"}), ci_type=body.type, identifiers=body.identifiers.to_domain()
    )
    item = await usecases.register_config_item(cmd, uow)
    response.headers["Location"] = f"{router.prefix}/{item.id}"
    response.headers["ETag"] = f'W/"{item.version}"'
    return ConfigItemRead.of(item)


@router.get("/{ci_id}", response_model=ConfigItemRead)
async def get_config_item(ci_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> ConfigItemRead:
    item = await store.get_config_item(conn, ci_id)
    if item is None:
        raise NotFound(f"configuration item {ci_id} does not exist")
    response.headers["ETag"] = f'W/"{item.version}"'
    return ConfigItemRead.of(item)


@router.get("", response_model=ConfigItemPage)
async def list_config_items(
    conn: ReadConnectionDep,
    _: Reader,
    ci_type: Annotated[CIType | None, Query(alias="type")] = None,
    status: CIStatus | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Part of the name, any case")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ConfigItemPage:
    items, total = await store.list_config_items(
        conn,
        ci_type=ci_type.value if ci_type else None,
        status=status.value if status else None,
        q=q,
        limit=limit,
        offset=offset,
    )
    return ConfigItemPage(items=[ConfigItemRead.of(i) for i in items], total=total, limit=limit, offset=offset)
