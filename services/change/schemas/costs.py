"""API bodies of a change's cost (6.4): its estimate and actual, exact to the cent with a currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from shared.http import ApiModel

Amount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2, allow_inf_nan=False, examples=["1200.50"])]
Category = Literal["asset", "licence", "shared", "overhead", "capex", "opex", "external", "personnel", "facility"]


class ChangeCostWrite(ApiModel):
    """The change's cost (replacing what it said): the estimate before approval, the actual after."""

    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])
    estimated_cost: Amount | None = None
    actual_cost: Amount | None = None
    cost_category: Category = "opex"
    budget_id: UUID | None = Field(default=None, description="The service budget it is charged to (config's)")
    financial_impact: str = Field(default="", max_length=4000, description="The financial impact assessment")


class ChangeCostRead(ApiModel):
    required: bool = Field(description="Whether the change's risk makes an estimate and an actual required")
    currency: str | None
    estimated_cost: Decimal | None
    actual_cost: Decimal | None
    cost_category: Category | None
    budget_id: UUID | None
    financial_impact: str | None
