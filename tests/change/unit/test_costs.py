"""The costing of changes (6.4), pure: amounts to the cent, and which risks must be costed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.change.domain.cab import Risk
from services.change.domain.costs import ChangeCost, costing_required, require_actual, require_estimate
from shared.errors import RuleViolation


def _cost(estimate: str | None = "100", actual: str | None = None) -> ChangeCost:
    return ChangeCost(
        "EUR", Decimal(estimate) if estimate else None, Decimal(actual) if actual else None, "opex", None, ""
    )


def test_amounts_are_held_to_the_cent() -> None:
    assert _cost("20").estimated_cost == Decimal("20.00")
    assert str(_cost("20").estimated_cost) == "20.00"
    for bad in ("1.001", "-1"):
        with pytest.raises(RuleViolation):
            _cost(bad)
    with pytest.raises(RuleViolation):
        ChangeCost("eur", None, None, "opex", None, "")


@pytest.mark.parametrize(
    ("risk", "threshold", "required"),
    [
        (Risk.LOW, Risk.MEDIUM, False),
        (Risk.MEDIUM, Risk.MEDIUM, True),
        (Risk.HIGH, Risk.MEDIUM, True),
        (Risk.HIGH, None, False),
        (None, Risk.LOW, False),
    ],
)
def test_costing_is_required_at_or_above_the_threshold(
    risk: Risk | None, threshold: Risk | None, required: bool
) -> None:
    assert costing_required(risk, threshold) is required


def test_the_estimate_before_approval_and_the_actual_before_close() -> None:
    with pytest.raises(RuleViolation) as refused:
        require_estimate("CHG0000001", Risk.HIGH, Risk.HIGH, None)
    assert refused.value.extensions["errors"][0]["field"] == "estimated_cost"
    require_estimate("CHG0000001", Risk.HIGH, Risk.HIGH, _cost())
    with pytest.raises(RuleViolation) as refused:
        require_actual("CHG0000001", Risk.HIGH, Risk.HIGH, _cost())
    assert refused.value.extensions["errors"][0]["field"] == "actual_cost"
    require_actual("CHG0000001", Risk.HIGH, Risk.HIGH, _cost(actual="95.10"))
    require_actual("CHG0000001", Risk.LOW, Risk.HIGH, None)
