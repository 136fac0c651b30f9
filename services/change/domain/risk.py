"""Change risk as pure code: a score from what the change touches, explained item by item.

The facts come from config's impact analysis (how many CIs and business services a failure of
the affected CIs reaches, and how critical they are), from this service's own history (how
often changes on the same CIs failed lately), from the schedule (conflicts of its window) and
from the change itself (its type, whether it has a back-out plan). When config
cannot answer, the impact is unknown and the change is scored high rather than waved through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.change.domain.cab import Risk
from services.change.domain.changes import ChangeType


@dataclass(frozen=True)
class ImpactFacts:
    reached_cis: int
    business_services: int
    most_critical: int | None
    """Criticality of the most critical CI reached or affected, 1 (critical) to 4; None if none."""


@dataclass(frozen=True)
class RiskFacts:
    change_type: ChangeType
    affected_cis: int
    impact: ImpactFacts | None
    """None: config did not answer in time."""
    recent_changes_on_cis: int = 0
    recent_failures_on_cis: int = 0
    has_backout_plan: bool = True
    schedule_conflicts: tuple[tuple[str, str], ...] = ()
    """(kind, other) of each conflict of the change's window: see domain/schedule.py."""


CONFLICT_POINTS = {"blackout": 20, "same_ci": 10, "outside_maintenance_window": 10, "dependent_ci": 5}
CONFLICT_CAP = 30
"""Conflicts add at most this much: a crowded window is a risk, not a certainty of failure."""


@dataclass(frozen=True)
class RiskAssessment:
    risk: Risk
    score: int
    reasons: list[str] = field(default_factory=list)


def assess_risk(facts: RiskFacts) -> RiskAssessment:
    score, reasons = 0, []

    def add(points: int, why: str) -> None:
        nonlocal score
        score += points
        reasons.append(f"+{points} {why}" if points else why)

    if facts.impact is None:
        add(60, "impact unknown: the configuration service did not answer in time")
    else:
        impact = facts.impact
        if impact.business_services:
            add(min(30, 10 * impact.business_services), f"{impact.business_services} business service(s) affected")
        if impact.reached_cis >= 50:
            add(20, f"{impact.reached_cis} CIs downstream")
        elif impact.reached_cis >= 10:
            add(10, f"{impact.reached_cis} CIs downstream")
        if impact.most_critical == 1:
            add(25, "a critical CI is affected")
        elif impact.most_critical == 2:
            add(10, "a high-criticality CI is affected")
    if facts.affected_cis == 0:
        add(0, "no affected CI named: impact judged on the CIs listed only")
    if facts.recent_changes_on_cis >= 3:
        rate = facts.recent_failures_on_cis / facts.recent_changes_on_cis
        if rate >= 0.25:
            add(
                20,
                f"{facts.recent_failures_on_cis} of {facts.recent_changes_on_cis} recent changes on these CIs failed",
            )
    if facts.change_type is ChangeType.EMERGENCY:
        add(15, "emergency change: little time to test")
    if not facts.has_backout_plan:
        add(15, "no back-out plan")
    conflict_points = 0
    for kind, other in facts.schedule_conflicts:
        points = min(CONFLICT_POINTS.get(kind, 5), CONFLICT_CAP - conflict_points)
        conflict_points += points
        add(points, f"schedule conflict: {kind.replace('_', ' ')} ({other})")
    risk = Risk.HIGH if score >= 50 else Risk.MEDIUM if score >= 20 else Risk.LOW
    return RiskAssessment(risk=risk, score=score, reasons=reasons)
