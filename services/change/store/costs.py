"""Change store, costs: each change's cost estimate and actual (integer cents)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain.costs import ChangeCost
from services.change.store.tables import change_cost


def _cents(amount: Decimal | None) -> int | None:
    return None if amount is None else int(amount * 100)


def _amount(cents: int | None) -> Decimal | None:
    return None if cents is None else Decimal(cents).scaleb(-2)


class CostRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def cost_of(self, change_id: UUID) -> ChangeCost | None:
        t = change_cost
        row = (await self.conn.execute(select(t).where(t.c.change_id == change_id))).first()
        if row is None:
            return None
        return ChangeCost(
            row.currency,
            _amount(row.estimated_cents),
            _amount(row.actual_cents),
            row.cost_category,
            row.budget_id,
            row.financial_impact,
        )

    async def state_cost(self, change_id: UUID, cost: ChangeCost, actor: str, now: datetime) -> None:
        t = change_cost
        await self.conn.execute(delete(t).where(t.c.change_id == change_id))
        values = {
            "change_id": change_id,
            "currency": cost.currency,
            "estimated_cents": _cents(cost.estimated_cost),
            "actual_cents": _cents(cost.actual_cost),
            "cost_category": cost.cost_category,
            "budget_id": cost.budget_id,
            "financial_impact": cost.financial_impact,
            "updated_by": actor,
            "updated_at": now,
        }
        await self.conn.execute(t.insert().values(**values))
