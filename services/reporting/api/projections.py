"""Projection routes: rebuild every fact table from the event log (admin)."""

from __future__ import annotations

from fastapi import APIRouter

from services.reporting.api.deps import Admin
from services.reporting.schemas.projections import RebuildRead
from services.reporting.usecases import projections as usecases
from shared.app import UnitOfWorkDep

router = APIRouter(prefix="/api/v1", tags=["reporting"])


@router.post("/projections/rebuild", response_model=RebuildRead, summary="Rebuild every projection from the event log")
async def rebuild_projections(uow: UnitOfWorkDep, _: Admin) -> RebuildRead:
    result = await usecases.rebuild(uow)
    return RebuildRead(events=result.events, patches=result.patches)
