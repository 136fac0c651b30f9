"""Projection routes: rebuild every fact table from the event log (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.reporting.api.deps import POLICY
from services.reporting.schemas.projections import RebuildRead
from services.reporting.usecases import projections as usecases
from shared.app import UnitOfWorkDep

router = APIRouter(prefix="/api/v1", tags=["reporting"], dependencies=[Depends(POLICY.enforce)])


@router.post("/projections/rebuild", response_model=RebuildRead, summary="Rebuild every projection from the event log")
async def rebuild_projections(uow: UnitOfWorkDep) -> RebuildRead:
    result = await usecases.rebuild(uow)
    return RebuildRead(events=result.events, patches=result.patches)
