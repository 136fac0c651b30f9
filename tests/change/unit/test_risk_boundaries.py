"""Risk scoring at the edges of each rule: the thresholds of reach, history and score, the cap on
business services and conflicts, and every point explained by its reason (no I/O)."""

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
    ("services", "points"),
    [(1, 10), (2, 20), (3, 30), (4, 30), (9, 30)],  # 10 per service, at most 30
)
def test_business_services_add_ten_each_up_to_thirty(services: int, points: int) -> None:
    result = assess_risk(facts(ImpactFacts(0, services, 4)))
    assert (result.score, result.reasons) == (points, [f"+{points} {services} business service(s) affected"])


@pytest.mark.parametrize(
    ("reached", "reasons"),
    [
        (9, []),
        (10, ["+10 10 CIs downstream"]),
        (49, ["+10 49 CIs downstream"]),
        (50, ["+20 50 CIs downstream"]),
    ],
)
def test_the_reach_downstream_counts_from_ten_cis_and_counts_double_from_fifty(
    reached: int, reasons: list[str]
) -> None:
    result = assess_risk(facts(ImpactFacts(reached, 0, 4)))
    assert result.reasons == reasons
    assert result.score == sum(int(r.split()[0]) for r in reasons)


@pytest.mark.parametrize(
    ("criticality", "reasons"),
    [
        (1, ["+25 a critical CI is affected"]),
        (2, ["+10 a high-criticality CI is affected"]),
        (3, []),
        (None, []),
    ],
)
def test_the_most_critical_ci_reached_adds_its_points(criticality: int | None, reasons: list[str]) -> None:
    assert assess_risk(facts(ImpactFacts(0, 0, criticality))).reasons == reasons


def test_a_change_naming_no_ci_is_flagged_without_points() -> None:
    result = assess_risk(facts(ImpactFacts(0, 0, None), affected_cis=0))
    assert (result.score, result.risk) == (0, Risk.LOW)
    assert result.reasons == ["no affected CI named: impact judged on the CIs listed only"]


@pytest.mark.parametrize(
    ("changes", "failures", "reasons"),
    [
        (2, 2, []),  # too few changes to judge
        (3, 1, ["+20 1 of 3 recent changes on these CIs failed"]),
        (4, 1, ["+20 1 of 4 recent changes on these CIs failed"]),  # exactly a quarter
        (5, 1, []),  # a fifth failed: below a quarter
        (8, 0, []),
    ],
)
def test_a_history_of_failures_counts_from_three_changes_and_a_quarter_failed(
    changes: int, failures: int, reasons: list[str]
) -> None:
    result = assess_risk(facts(ImpactFacts(0, 0, 4), recent_changes_on_cis=changes, recent_failures_on_cis=failures))
    assert result.reasons == reasons
    assert result.score == (20 if reasons else 0)


def test_a_conflict_of_a_kind_without_its_own_weight_adds_five() -> None:
    result = assess_risk(facts(ImpactFacts(0, 0, 4), schedule_conflicts=(("change_freeze_notice", "ops"),)))
    assert (result.score, result.reasons) == (5, ["+5 schedule conflict: change freeze notice (ops)"])


@pytest.mark.parametrize(
    ("impact", "risk", "score"),
    [
        (ImpactFacts(50, 2, 2), Risk.HIGH, 50),  # 20 + 20 + 10: exactly the high threshold
        (ImpactFacts(10, 2, 2), Risk.MEDIUM, 40),
        (ImpactFacts(50, 2, 3), Risk.MEDIUM, 40),
    ],
)
def test_a_score_of_fifty_is_high(impact: ImpactFacts, risk: Risk, score: int) -> None:
    result = assess_risk(facts(impact))
    assert (result.risk, result.score) == (risk, score)
