"""The costing of changes (ISO/IEC 20000-1 6.4: budgeting informs change management), pure: a
change's cost estimate and actual, exact to the cent with a currency, and the rule that a change
at or above a configured risk has an estimate before it is approved and, once reviewed after its
implementation, an actual before it is closed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final
from uuid import UUID

from services.change.domain.cab import Risk
from shared.errors import RuleViolation

CURRENCY: Final = re.compile(r"^[A-Z]{3}$")
CENT: Final = Decimal("0.01")
_RANK: Final = {Risk.LOW: 0, Risk.MEDIUM: 1, Risk.HIGH: 2}


@dataclass(frozen=True)
class ChangeCost:
    currency: str
    estimated_cost: Decimal | None
    actual_cost: Decimal | None
    cost_category: str
    budget_id: UUID | None
    financial_impact: str

    def __post_init__(self) -> None:
        if not CURRENCY.match(self.currency):
            raise RuleViolation("an ISO 4217 code (three capital letters)", field="currency")
        for name in ("estimated_cost", "actual_cost"):
            amount = getattr(self, name)
            if amount is None:
                continue
            if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
                raise RuleViolation("an amount is not negative, to the cent", field=name)
            object.__setattr__(self, name, amount.quantize(CENT))  # 20 is held as 20.00


def costing_required(risk: Risk | None, required_from: Risk | None) -> bool:
    """Whether a change of `risk` must be costed (never when no threshold is configured)."""
    return required_from is not None and risk is not None and _RANK[risk] >= _RANK[required_from]


def require_estimate(number: str, risk: Risk | None, required_from: Risk | None, cost: ChangeCost | None) -> None:
    """Before approval: a change at or above the threshold has its cost estimate (422 otherwise)."""
    if costing_required(risk, required_from) and (cost is None or cost.estimated_cost is None):
        raise RuleViolation(
            f"{number} is {risk} risk: state its cost estimate (PUT .../cost) before it is approved",
            field="estimated_cost",
        )


def require_actual(number: str, risk: Risk | None, required_from: Risk | None, cost: ChangeCost | None) -> None:
    """Before a reviewed change is closed: its actual cost, when it had to be estimated."""
    if costing_required(risk, required_from) and (cost is None or cost.actual_cost is None):
        raise RuleViolation(
            f"{number} is {risk} risk: record its actual cost (PUT .../cost) before it is closed", field="actual_cost"
        )
