"""Performance routes: a supplier's scorecard (targets against actuals, trend, roll-up; 7.2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from services.supplier.api.deps import POLICY
from services.supplier.domain.performance import check_period, period_of
from services.supplier.schemas.performance import (
    ContractCardRead,
    PeriodTotals,
    PriorityRead,
    ScorecardRead,
    SubcontractorRead,
    TotalsRead,
)
from services.supplier.usecases import performance
from shared.app import ReadConnectionDep

router = APIRouter(prefix="/api/v1/suppliers", tags=["suppliers"], dependencies=[Depends(POLICY.enforce)])


def scorecard_read(card: performance.Scorecard) -> ScorecardRead:
    """The scorecard as the API shows it (a review keeps it as it stood)."""
    return ScorecardRead(
        supplier_id=card.supplier.id,
        number=card.supplier.number,
        name=card.supplier.name,
        role=card.supplier.role,
        period=card.period,
        contracts=[
            ContractCardRead(
                contract_id=c.contract.id,
                number=c.contract.number,
                title=c.contract.title,
                status=c.contract.status,
                availability_target_pct=c.contract.availability_pct,
                targets=[PriorityRead.of(line) for line in c.lines],
                totals=TotalsRead.of(c.totals),
            )
            for c in card.contracts
        ],
        totals=TotalsRead.of(card.totals),
        trend=[PeriodTotals(period=p, totals=TotalsRead.of(t)) for p, t in card.trend],
        subcontractors=[
            SubcontractorRead(
                supplier_id=s.supplier.id,
                number=s.supplier.number,
                name=s.supplier.name,
                lead_supplier_id=s.supplier.lead_supplier_id,
                totals=TotalsRead.of(s.totals),
            )
            for s in card.subcontractors
        ],
        rollup=TotalsRead.of(card.rollup),
        rollup_trend=[PeriodTotals(period=p, totals=TotalsRead.of(t)) for p, t in card.rollup_trend],
    )


@router.get("/{supplier_id}/scorecard", response_model=ScorecardRead, tags=["performance"])
async def scorecard(
    supplier_id: UUID,
    conn: ReadConnectionDep,
    period: Annotated[str | None, Query(description="The month, YYYY-MM (default: this month, UTC)")] = None,
    trend: Annotated[int, Query(ge=0, le=24, description="How many earlier months to show")] = 6,
) -> ScorecardRead:
    card = await performance.scorecard(conn, supplier_id, check_period(period or period_of(datetime.now(UTC))), trend)
    return scorecard_read(card)
