"""Events of budgeting and accounting for services (ISO/IEC 20000-1 6.4), published by the
configuration service, which keeps the budgets, the allocation rules and finance's actuals, and by
the change service for the cost of a change.
Amounts are decimal strings ("1200.50"), exact to the cent, each with its currency."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventData


class BudgetLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    category: str = Field(description="asset, licence, shared, overhead, capex, opex, external, personnel or facility")
    amount: Decimal


class BudgetCreated(EventData):
    routing_key: ClassVar[str] = "budget.created.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "A service's budget for a period was recorded, with a line per cost category (6.4)."

    budget_id: UUID
    service_id: UUID
    period_start: date
    period_end: date
    currency: str = Field(examples=["EUR"])
    lines: list[BudgetLine]
    total: Decimal
    created_at: datetime
    created_by: str


class CostAllocationRuleRecorded(EventData):
    routing_key: ClassVar[str] = "cost.allocation_rule_recorded.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = (
        "A version of a rule sharing shared or overhead costs among services was recorded (6.4)."
    )

    name: str
    version: int
    basis: str = Field(description="fixed_percent, ci_count or usage")
    service_ids: list[UUID]
    percents: dict[UUID, Decimal] = Field(description="fixed_percent only")
    metric: str | None = Field(default=None, description="usage only: the capacity metric")
    recorded_at: datetime
    recorded_by: str


class AllocatedPart(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    service_id: UUID
    amount: Decimal


class CostActualRecorded(EventData):
    routing_key: ClassVar[str] = "cost.actual_recorded.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = (
        "A cost finance reported was recorded against a service, or split among services by an allocation rule"
        " (the parts sum exactly to the amount) (6.4)."
    )

    reference: str = Field(description="Finance's reference for the cost")
    import_id: UUID
    category: str
    amount: Decimal
    currency: str
    incurred_on: date
    allocation_rule: str | None = None
    allocation_version: int | None = None
    parts: list[AllocatedPart] = Field(description="What each service was charged")


class CostActualsImported(EventData):
    routing_key: ClassVar[str] = "cost.actuals_imported.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "A file of actual costs from finance was imported; each row accepted or refused (6.4)."

    import_id: UUID
    rows: int
    accepted: int
    refused: int
    imported_at: datetime
    imported_by: str


class ChangeCostStated(EventData):
    routing_key: ClassVar[str] = "change.cost_stated.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = (
        "A change's cost estimate or actual was stated (replacing what it said before), with the services the change"
        " touches: the cost of changes per service (6.4)."
    )

    change_id: UUID
    number: str = Field(examples=["CHG0000001"])
    service_ids: list[UUID] = Field(default_factory=list, description="The business services the change touches")
    currency: str = Field(examples=["EUR"])
    estimated_cost: Decimal | None
    actual_cost: Decimal | None
    cost_category: str
    budget_id: UUID | None
    stated_at: datetime
    stated_by: str
