"""API bodies of the supplier scorecard: targets against actuals, totals, trend, roll-up."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from services.supplier.domain.contracts import ContractStatus
from services.supplier.domain.performance import PriorityFigures, TimeFigures, Totals
from services.supplier.domain.suppliers import (
    SupplierRole,
)
from shared.http import ApiModel


class TimesRead(ApiModel):
    measured: int
    mean_s: float | None
    max_s: float | None
    breaches: int
    within_target_pct: float | None

    @classmethod
    def of(cls, t: TimeFigures) -> TimesRead:
        return cls.from_record(t)


class PriorityRead(ApiModel):
    priority: int
    response_target_s: int | None
    resolution_target_s: int | None
    resolved: int
    response: TimesRead
    resolution: TimesRead

    @classmethod
    def of(cls, p: PriorityFigures) -> PriorityRead:
        return cls.from_record(p, response=TimesRead.of(p.response), resolution=TimesRead.of(p.resolution))


class TotalsRead(ApiModel):
    incidents_opened: int
    incidents_resolved: int
    response_breaches: int
    resolution_breaches: int
    breaches: int
    mean_response_s: float | None
    mean_resolution_s: float | None
    changes_implemented: int
    changes_failed: int
    change_success_rate: float | None = Field(description="Percent of changes on covered CIs that succeeded")
    sla_breaches: int = Field(description="Customer SLA breaches (incident service) on tickets counted here")

    @classmethod
    def of(cls, t: Totals) -> TotalsRead:
        return cls.from_record(t)


class ContractCardRead(ApiModel):
    contract_id: UUID
    number: str
    title: str
    status: ContractStatus
    availability_target_pct: float | None
    availability_actual_pct: float | None = Field(
        default=None, description="Not measured yet: no outage events are consumed"
    )
    targets: list[PriorityRead]
    totals: TotalsRead


class PeriodTotals(ApiModel):
    period: str
    totals: TotalsRead


class SubcontractorRead(ApiModel):
    supplier_id: UUID
    number: str
    name: str
    lead_supplier_id: UUID | None
    totals: TotalsRead


class ScorecardRead(ApiModel):
    supplier_id: UUID
    number: str
    name: str
    role: SupplierRole
    period: str
    contracts: list[ContractCardRead]
    totals: TotalsRead
    trend: list[PeriodTotals] = Field(description="The supplier's own totals in the periods before, oldest first")
    subcontractors: list[SubcontractorRead] = Field(description="Every supplier below this one, at any depth")
    rollup: TotalsRead = Field(description="This supplier's figures and all its sub-contractors' together")
    rollup_trend: list[PeriodTotals]
