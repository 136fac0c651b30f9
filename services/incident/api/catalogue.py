"""Request catalogue routes: the items service requests are made from."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Response

from services.incident.api.deps import POLICY, CurrentCatalogueItem
from services.incident.schemas.catalogue import CatalogueItemRead, CatalogueItemWrite
from services.incident.store import catalogue
from services.incident.usecases import catalogue as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import IfMatch, optional_version
from shared.http import created, tagged

router = APIRouter(tags=["service requests"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""

ITEMS = "/api/v1/catalogue/items"


@router.post(ITEMS, status_code=201, response_model=CatalogueItemRead, tags=["catalogue"])
async def create_item(body: CatalogueItemWrite, uow: UnitOfWorkDep, response: Response) -> CatalogueItemRead:
    item, at = await usecases.create_item(body.to_domain, uow)
    return created(response, f"{ITEMS}/{item.id}", item.version, CatalogueItemRead.of(item, at))


@router.get(ITEMS, response_model=list[CatalogueItemRead], tags=["catalogue"])
async def list_items(
    conn: ReadConnectionDep, service_id: UUID | None = None, active: bool | None = None
) -> list[CatalogueItemRead]:
    return [
        CatalogueItemRead.of(i, at) for i, at in await catalogue.list_items(conn, service_id=service_id, active=active)
    ]


@router.get(ITEMS + "/{item_id}", response_model=CatalogueItemRead, tags=["catalogue"])
async def get_item(found: CurrentCatalogueItem, response: Response) -> CatalogueItemRead:
    return tagged(response, found[0].version, CatalogueItemRead.of(*found))


@router.put(ITEMS + "/{item_id}", response_model=CatalogueItemRead, tags=["catalogue"])
async def replace_item(
    item_id: UUID,
    body: CatalogueItemWrite,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> CatalogueItemRead:
    item, at = await usecases.replace_item(item_id, body.to_domain, optional_version(if_match), uow)
    return tagged(response, item.version, CatalogueItemRead.of(item, at))


@router.delete(ITEMS + "/{item_id}", status_code=204, tags=["catalogue"])
async def delete_item(item_id: UUID, uow: UnitOfWorkDep, if_match: IfMatch = None) -> Response:
    await usecases.delete_item(item_id, optional_version(if_match), uow)
    return Response(status_code=204)
