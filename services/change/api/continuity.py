"""A change's continuity and availability impact (ISO/IEC 20000-1 6.3.2): stated before the
assessment of a change on a continuity-tier service."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends

from services.change.api.deps import POLICY, ChangeAction
from services.change.domain.continuity import ContinuityImpact, ImpactLevel
from services.change.schemas.continuity import ContinuityImpactRead, ContinuityImpactWrite
from services.change.usecases import continuity as usecases
from shared.app import UnitOfWorkDep

router = APIRouter(prefix="/api/v1/changes", tags=["changes"], dependencies=[Depends(POLICY.enforce)])


@router.put("/{change_id}/continuity-impact", response_model=ContinuityImpactRead)
async def put_continuity_impact(
    body: ContinuityImpactWrite, uow: UnitOfWorkDep, act: ChangeAction
) -> ContinuityImpactRead:
    """The change's impact on the continuity and availability plans (replacing what it said), until
    it is assessed."""
    impact = ContinuityImpact(ImpactLevel(body.continuity_impact), ImpactLevel(body.availability_impact), body.notes)
    return ContinuityImpactRead.model_validate(await usecases.state_impact(act.change_id, impact, act.actor, uow))


@router.get("/{change_id}/continuity-impact", response_model=ContinuityImpactRead)
async def get_continuity_impact(change_id: UUID, uow: UnitOfWorkDep) -> ContinuityImpactRead:
    """Whether the change touches a continuity-tier service, and what it stated."""
    return ContinuityImpactRead.model_validate(await usecases.impact_of(change_id, uow))
