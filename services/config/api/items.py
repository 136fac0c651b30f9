"""CMDB routes, configuration items: register, read (now or as it was), search, update, retire,
and their versions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.config.api.deps import POLICY, Caller
from services.config.domain.items import CIStatus
from services.config.schemas.items import (
    ChangeReference,
    ConfigItemCreate,
    ConfigItemPage,
    ConfigItemRead,
    ConfigItemUpdate,
    VersionPage,
    VersionRead,
)
from services.config.store.items import get_config_item as load_config_item
from services.config.store.items import list_config_items as search_config_items
from services.config.store.items import list_versions, snapshot_as_of
from services.config.usecases import items
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset, RequiredIfMatch
from shared.errors import NotFound, found
from shared.http import created, expected_version, tagged

router = APIRouter(prefix="/api/v1", tags=["cmdb"], dependencies=[Depends(POLICY.enforce)])


@router.post("/cis", status_code=201, response_model=ConfigItemRead, tags=["configuration items"])
async def create_config_item(
    body: ConfigItemCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> ConfigItemRead:
    cmd = items.RegisterConfigItem(
        **body.model_dump(exclude={"type", "identifiers"}), ci_type=body.type, identifiers=body.identifiers.to_domain()
    )
    item = await items.register_config_item(cmd, uow, actor=who.subject)
    return created(response, f"{router.prefix}/cis/{item.id}", item.version, ConfigItemRead.of(item))


@router.get("/cis/{ci_id}", response_model=ConfigItemRead, tags=["configuration items"])
async def get_config_item(
    ci_id: UUID,
    conn: ReadConnectionDep,
    response: Response,
    as_of: Annotated[datetime | None, Query(description="The CI as it was at this time")] = None,
) -> ConfigItemRead:
    if as_of is not None:
        snapshot = await snapshot_as_of(conn, ci_id, as_of)
        if snapshot is None:
            raise NotFound(f"configuration item {ci_id} did not exist at {as_of.isoformat()}")
        return ConfigItemRead.of_snapshot(snapshot)
    item = found(await load_config_item(conn, ci_id), f"configuration item {ci_id}")
    return tagged(response, item.version, ConfigItemRead.of(item))


@router.patch("/cis/{ci_id}", response_model=ConfigItemRead, tags=["configuration items"])
async def update_config_item(
    ci_id: UUID,
    body: ConfigItemUpdate,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> ConfigItemRead:
    edit = items.Edit(who.subject, expected_version(if_match), body.change_number)
    item = await items.update_config_item(ci_id, body.values(), edit, uow)
    return tagged(response, item.version, ConfigItemRead.of(item))


@router.post("/cis/{ci_id}/retire", response_model=ConfigItemRead, tags=["configuration items"])
async def retire_config_item(
    ci_id: UUID,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    body: ChangeReference | None = None,
    if_match: RequiredIfMatch = None,
) -> ConfigItemRead:
    edit = items.Edit(who.subject, expected_version(if_match), body.change_number if body else None)
    item = await items.retire_config_item(ci_id, edit, uow)
    return tagged(response, item.version, ConfigItemRead.of(item))


@router.get("/cis", response_model=ConfigItemPage, tags=["configuration items"])
async def list_config_items(
    conn: ReadConnectionDep,
    ci_type: Annotated[str | None, Query(alias="type", max_length=50)] = None,
    status: CIStatus | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Part of the name, any case")] = None,
    service_id: UUID | None = None,
    controlled: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ConfigItemPage:
    matching, total = await search_config_items(
        conn,
        ci_type=ci_type,
        status=status.value if status else None,
        q=q,
        service_id=service_id,
        controlled=controlled,
        limit=limit,
        offset=offset,
    )
    return ConfigItemPage(items=[ConfigItemRead.of(i) for i in matching], total=total, limit=limit, offset=offset)


@router.get("/cis/{ci_id}/history", response_model=VersionPage, tags=["configuration items"])
async def ci_history(ci_id: UUID, conn: ReadConnectionDep, limit: Limit = 50, offset: Offset = 0) -> VersionPage:
    rows, total = await list_versions(conn, ci_id, limit=limit, offset=offset)
    # No version at all means no such CI (every CI has its first version).
    if total == 0:
        raise NotFound(f"configuration item {ci_id} does not exist")
    versions = [
        VersionRead(
            version=r.version,
            recorded_at=r.recorded_at,
            actor=r.actor,
            cause_kind=r.cause_kind,
            cause_reference=r.cause_reference,
            changes=r.changes,
        )
        for r in rows
    ]
    return VersionPage(items=versions, total=total, limit=limit, offset=offset)
