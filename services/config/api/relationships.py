"""CMDB routes, relationships: a CI's relationships both ways, link, unlink."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.config.api.deps import POLICY, Caller, CurrentItem
from services.config.schemas.relationships import RelationshipCreate, RelationshipRead
from services.config.store.relationships import relationships_of
from services.config.usecases import relationships
from services.config.usecases.items import Edit
from shared.app import ReadConnectionDep, UnitOfWorkDep

router = APIRouter(prefix="/api/v1", tags=["cmdb"], dependencies=[Depends(POLICY.enforce)])


@router.get("/cis/{ci_id}/relationships", response_model=list[RelationshipRead], tags=["relationships"])
async def ci_relationships(conn: ReadConnectionDep, item: CurrentItem) -> list[RelationshipRead]:
    return [RelationshipRead.of(r) for r in await relationships_of(conn, item.id)]


@router.post("/relationships", status_code=201, response_model=RelationshipRead, tags=["relationships"])
async def create_relationship(
    body: RelationshipCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> RelationshipRead:
    edit = Edit(who.subject, None, body.change_number)
    relationship = await relationships.add_relationship(body.source_id, body.type, body.target_id, edit, uow)
    response.headers["Location"] = f"{router.prefix}/relationships/{relationship.id}"
    return RelationshipRead.of(relationship)


@router.delete("/relationships/{relationship_id}", status_code=204, tags=["relationships"])
async def delete_relationship(
    relationship_id: UUID,
    uow: UnitOfWorkDep,
    who: Caller,
    change_number: Annotated[str | None, Query(pattern=r"^CHG[0-9]{7}$")] = None,
) -> None:
    # The use case loads the relationship (404) inside its transaction, where it removes it.
    await relationships.remove_relationship(relationship_id, Edit(who.subject, None, change_number), uow)
