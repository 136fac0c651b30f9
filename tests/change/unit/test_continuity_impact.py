"""Changes near continuity-tier services (6.3.2), pure: which of a change's services a plan covers,
that such a change states its impact before assessment, and that an impact needs notes."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.change.domain.continuity import (
    ContinuityImpact,
    ImpactLevel,
    continuity_tier,
    require_impact_stated,
)
from shared.errors import RuleViolation

A, B, C = sorted([uuid4(), uuid4(), uuid4()])
NONE, LOW, HIGH = ImpactLevel.NONE, ImpactLevel.LOW, ImpactLevel.HIGH


def test_the_continuity_tier_services_of_a_change_in_order() -> None:
    assert continuity_tier([C, A, B], [B, C]) == [B, C]
    assert continuity_tier([A], [B]) == []
    assert continuity_tier([], [A]) == []


def test_a_change_on_a_continuity_tier_service_states_its_impact_first() -> None:
    with pytest.raises(RuleViolation) as refused:
        require_impact_stated("CHG0000001", [A, C], [C, B], None)
    assert refused.value.extensions["errors"][0]["field"] == "continuity_impact"
    assert refused.value.detail == (
        f"CHG0000001 touches continuity-tier service(s) {C}: state its continuity and availability impact"
        " (PUT .../continuity-impact) before assessment"
    )
    with pytest.raises(RuleViolation) as two:
        require_impact_stated("CHG0000002", [A, B, C], [C, B], None)
    assert f"service(s) {B}, {C}: " in two.value.detail
    require_impact_stated("CHG0000001", [A, C], [C], ContinuityImpact(NONE, NONE, ""))
    require_impact_stated("CHG0000001", [A], [C], None)  # on no continuity-tier service
    require_impact_stated("CHG0000001", [], [], None)


def test_an_impact_other_than_none_says_what_it_is() -> None:
    ContinuityImpact(NONE, NONE, "")
    ContinuityImpact(LOW, NONE, "fail-over tested again after")
    for continuity, availability in ((LOW, NONE), (NONE, LOW), (HIGH, HIGH), (NONE, HIGH)):
        with pytest.raises(RuleViolation) as refused:
            ContinuityImpact(continuity, availability, "   ")
        assert refused.value.extensions["errors"][0] == {
            "field": "notes",
            "reason": "an impact other than none needs notes saying what it is",
        }
