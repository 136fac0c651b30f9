"""The costing of changes (6.4): state a change's cost estimate and actual, and refuse the approval
(without an estimate) or the close (without an actual) of a change at or above the configured risk."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.change.domain.cab import Risk
from services.change.domain.changes import ChangeStatus
from services.change.domain.costs import ChangeCost, costing_required, require_actual, require_estimate
from services.change.events import cost_stated
from services.change.store.changes import ChangeRepository
from services.change.store.costs import CostRepository
from shared import clock
from shared.errors import Conflict, NotFound
from shared.uow import AnyUnitOfWork

SETTLED = frozenset({ChangeStatus.CLOSED, ChangeStatus.CANCELLED})


async def state_cost(
    change_id: UUID, cost: ChangeCost, actor: str, required_from: Risk | None, uow: AnyUnitOfWork
) -> dict[str, Any]:
    async with uow:
        item = await uow.repository(ChangeRepository).get(change_id)
        if item is None:
            raise NotFound(f"change {change_id} does not exist")
        if item.status in SETTLED:
            raise Conflict(f"{item.number} is {item.status.value}: its cost is settled")
        now = clock.now()
        await uow.repository(CostRepository).state_cost(change_id, cost, actor, now)
        uow.emit(cost_stated(item, cost, actor, now), subject=str(change_id))
        await uow.commit()
    return answer(cost, costing_required(item.risk, required_from))


async def cost_of(change_id: UUID, required_from: Risk | None, uow: AnyUnitOfWork) -> dict[str, Any]:
    async with uow:
        item = await uow.repository(ChangeRepository).get(change_id)
        if item is None:
            raise NotFound(f"change {change_id} does not exist")
        cost = await uow.repository(CostRepository).cost_of(change_id)
    return answer(cost, costing_required(item.risk, required_from))


def answer(cost: ChangeCost | None, required: bool) -> dict[str, Any]:
    names = ("currency", "estimated_cost", "actual_cost", "cost_category", "budget_id", "financial_impact")
    return {"required": required, **{name: getattr(cost, name) if cost else None for name in names}}


async def require_costed(change_id: UUID, required_from: Risk | None, uow: AnyUnitOfWork, *, closing: bool) -> None:
    """Before approval, the estimate; before a reviewed change is closed, the actual (nothing
    is asked when no threshold is configured)."""
    if required_from is None:
        return
    async with uow:
        item = await uow.repository(ChangeRepository).get(change_id)
        if item is None:
            return  # the action answers the 404
        cost = await uow.repository(CostRepository).cost_of(change_id)
    if closing and item.status is ChangeStatus.REVIEWED:
        require_actual(item.number, item.risk, required_from, cost)
    elif not closing:
        require_estimate(item.number, item.risk, required_from, cost)
