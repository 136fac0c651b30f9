"""CMDB routes, CI types: list, read, define."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from services.config.api.deps import POLICY, Caller, CurrentCIType
from services.config.schemas.types import CITypeCreate, CITypeRead
from services.config.store.types import TypeRepository
from services.config.usecases import items
from shared.app import ReadConnectionDep, UnitOfWorkDep

router = APIRouter(prefix="/api/v1", tags=["cmdb"], dependencies=[Depends(POLICY.enforce)])


@router.get("/ci-types", response_model=list[CITypeRead], tags=["ci types"])
async def list_ci_types(conn: ReadConnectionDep) -> list[CITypeRead]:
    return [CITypeRead.of(t) for t in await TypeRepository(conn).all()]


@router.get("/ci-types/{name}", response_model=CITypeRead, tags=["ci types"])
async def get_ci_type(ci_type: CurrentCIType) -> CITypeRead:
    return CITypeRead.of(ci_type)


@router.post("/ci-types", status_code=201, response_model=CITypeRead, tags=["ci types"])
async def create_ci_type(body: CITypeCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> CITypeRead:
    ci_type = await items.define_ci_type(items.DefineCIType(**body.model_dump(), actor=who.subject), uow)
    response.headers["Location"] = f"{router.prefix}/ci-types/{ci_type.name}"
    return CITypeRead.of(ci_type)
