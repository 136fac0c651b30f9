"""A change's cost (ISO/IEC 20000-1 6.4): its estimate and actual, required at or above a configured risk."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends

from services.change.api.deps import POLICY, ChangeAction, GovernanceDep
from services.change.domain.costs import ChangeCost
from services.change.schemas.costs import ChangeCostRead, ChangeCostWrite
from services.change.usecases import costs as usecases
from shared.app import UnitOfWorkDep

router = APIRouter(prefix="/api/v1/changes", tags=["changes"], dependencies=[Depends(POLICY.enforce)])


@router.put("/{change_id}/cost", response_model=ChangeCostRead)
async def put_change_cost(
    body: ChangeCostWrite, uow: UnitOfWorkDep, act: ChangeAction, governance: GovernanceDep
) -> ChangeCostRead:
    """The change's cost estimate and actual (replacing what it said), until it is closed."""
    cost = ChangeCost(
        body.currency, body.estimated_cost, body.actual_cost, body.cost_category, body.budget_id, body.financial_impact
    )
    answer = await usecases.state_cost(act.change_id, cost, act.actor, governance.cost_required_from, uow)
    return ChangeCostRead.model_validate(answer)


@router.get("/{change_id}/cost", response_model=ChangeCostRead)
async def get_change_cost(change_id: UUID, uow: UnitOfWorkDep, governance: GovernanceDep) -> ChangeCostRead:
    """The change's cost, and whether its risk makes it required."""
    return ChangeCostRead.model_validate(await usecases.cost_of(change_id, governance.cost_required_from, uow))
