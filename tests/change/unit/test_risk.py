"""Risk scoring with known answers (no I/O)."""

from __future__ import annotations

import pytest

from services.change.domain.cab import Risk
from services.change.domain.changes import ChangeType
from services.change.domain.risk import ImpactFacts, RiskFacts, assess_risk


def facts(impact: ImpactFacts | None, **overrides: object) -> RiskFacts:
    values: dict[str, object] = {"change_type": ChangeType.NORMAL, "affected_cis": 1, "impact": impact}
    values.update(overrides)
    return RiskFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("impact", "overrides", "risk", "score"),
    [
        (ImpactFacts(0, 0, 4), {}, Risk.LOW, 0),
        (ImpactFacts(12, 1, 3), {}, Risk.MEDIUM, 20),  # 10 for the service, 10 for 12 CIs
        (ImpactFacts(60, 2, 1), {}, Risk.HIGH, 65),  # 20 + 20 + 25
        (ImpactFacts(0, 0, 2), {"change_type": ChangeType.EMERGENCY}, Risk.MEDIUM, 25),
        (ImpactFacts(0, 0, 4), {"recent_changes_on_cis": 4, "recent_failures_on_cis": 1}, Risk.MEDIUM, 20),
        (ImpactFacts(0, 0, 4), {"recent_changes_on_cis": 2, "recent_failures_on_cis": 2}, Risk.LOW, 0),
        (None, {}, Risk.HIGH, 60),
    ],
)
def test_risk_follows_impact_history_and_type(
    impact: ImpactFacts | None, overrides: dict[str, object], risk: Risk, score: int
) -> None:
    result = assess_risk(facts(impact, **overrides))
    assert (result.risk, result.score) == (risk, score)


def test_every_point_is_explained() -> None:
    result = assess_risk(facts(None, change_type=ChangeType.EMERGENCY))
    assert result.reasons == [
        "+60 impact unknown: the configuration service did not answer in time",
        "+15 emergency change: little time to test",
    ]
