"""Supplier performance measured from what happened: incidents and changes against contract targets.

Times are wall-clock (calendar) seconds between the incident's `opened_at` and its
`first_response_at` (response) or `resolved_at` (resolution): a supplier contract states elapsed
times per priority, unlike the customer SLA clocks of the incident service, which count business
hours and pauses. An incident counts in the period (calendar month, UTC) it was opened in; its
times and breaches count in the period it was resolved in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from services.supplier.domain.terms import ServiceTarget
from shared.errors import RuleViolation

PERIOD_PATTERN: Final = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def check_period(period: str) -> str:
    if not PERIOD_PATTERN.match(period):
        raise RuleViolation("a period is a month written YYYY-MM", field="period")
    return period


def previous_periods(period: str, count: int) -> list[str]:
    """The `count` months before `period`, oldest first."""
    year, month = (int(p) for p in check_period(period).split("-"))
    out: list[str] = []
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        out.append(f"{year:04d}-{month:02d}")
    return out[::-1]


@dataclass(frozen=True)
class Measurement:
    """One resolved incident measured against its contract's target for its priority."""

    response_s: float | None
    resolution_s: float
    response_target_s: int | None
    resolution_target_s: int | None

    @property
    def response_breached(self) -> bool:
        return (
            self.response_s is not None
            and self.response_target_s is not None
            and self.response_s > self.response_target_s
        )

    @property
    def resolution_breached(self) -> bool:
        return self.resolution_target_s is not None and self.resolution_s > self.resolution_target_s


def measure(
    *, opened_at: datetime, first_response_at: datetime | None, resolved_at: datetime, target: ServiceTarget | None
) -> Measurement:
    response_s = (first_response_at - opened_at).total_seconds() if first_response_at is not None else None
    return Measurement(
        response_s=max(response_s, 0.0) if response_s is not None else None,
        resolution_s=max((resolved_at - opened_at).total_seconds(), 0.0),
        response_target_s=target.response_minutes * 60 if target and target.response_minutes is not None else None,
        resolution_target_s=(
            target.resolution_minutes * 60 if target and target.resolution_minutes is not None else None
        ),
    )


@dataclass(frozen=True)
class ResolvedIncident:
    """What a scorecard reads of one incident resolved in the period."""

    priority: int
    response_s: float | None
    resolution_s: float
    response_breached: bool
    resolution_breached: bool


@dataclass(frozen=True)
class TimeFigures:
    measured: int
    mean_s: float | None
    max_s: float | None
    breaches: int
    within_target_pct: float | None


@dataclass(frozen=True)
class PriorityFigures:
    priority: int
    response_target_s: int | None
    resolution_target_s: int | None
    resolved: int
    response: TimeFigures
    resolution: TimeFigures


@dataclass(frozen=True)
class Totals:
    incidents_opened: int = 0
    incidents_resolved: int = 0
    response_breaches: int = 0
    resolution_breaches: int = 0
    mean_response_s: float | None = None
    mean_resolution_s: float | None = None
    changes_implemented: int = 0
    changes_failed: int = 0
    sla_breaches: int = 0
    measured_responses: int = 0
    sum_response_s: float = 0.0
    sum_resolution_s: float = 0.0

    @property
    def breaches(self) -> int:
        return self.response_breaches + self.resolution_breaches

    @property
    def change_success_rate(self) -> float | None:
        done = self.changes_implemented + self.changes_failed
        return round(100.0 * self.changes_implemented / done, 2) if done else None

    def __add__(self, other: Totals) -> Totals:
        return totals_of(
            opened=self.incidents_opened + other.incidents_opened,
            resolved=self.incidents_resolved + other.incidents_resolved,
            response_breaches=self.response_breaches + other.response_breaches,
            resolution_breaches=self.resolution_breaches + other.resolution_breaches,
            measured_responses=self.measured_responses + other.measured_responses,
            sum_response_s=self.sum_response_s + other.sum_response_s,
            sum_resolution_s=self.sum_resolution_s + other.sum_resolution_s,
            changes_implemented=self.changes_implemented + other.changes_implemented,
            changes_failed=self.changes_failed + other.changes_failed,
            sla_breaches=self.sla_breaches + other.sla_breaches,
        )


def totals_of(
    *,
    opened: int,
    resolved: int,
    response_breaches: int,
    resolution_breaches: int,
    measured_responses: int,
    sum_response_s: float,
    sum_resolution_s: float,
    changes_implemented: int,
    changes_failed: int,
    sla_breaches: int,
) -> Totals:
    return Totals(
        incidents_opened=opened,
        incidents_resolved=resolved,
        response_breaches=response_breaches,
        resolution_breaches=resolution_breaches,
        mean_response_s=round(sum_response_s / measured_responses, 1) if measured_responses else None,
        mean_resolution_s=round(sum_resolution_s / resolved, 1) if resolved else None,
        changes_implemented=changes_implemented,
        changes_failed=changes_failed,
        sla_breaches=sla_breaches,
        measured_responses=measured_responses,
        sum_response_s=sum_response_s,
        sum_resolution_s=sum_resolution_s,
    )


def summarise(
    *, opened: int, resolved: Sequence[ResolvedIncident], changes: Iterable[str], sla_breaches: int = 0
) -> Totals:
    """The totals of one contract (or supplier) and period; `changes` are the outcomes
    (`implemented` or `failed`) of the changes on covered CIs."""
    outcomes = list(changes)
    responses = [r.response_s for r in resolved if r.response_s is not None]
    return totals_of(
        opened=opened,
        resolved=len(resolved),
        response_breaches=sum(r.response_breached for r in resolved),
        resolution_breaches=sum(r.resolution_breached for r in resolved),
        measured_responses=len(responses),
        sum_response_s=sum(responses),
        sum_resolution_s=sum(r.resolution_s for r in resolved),
        changes_implemented=outcomes.count("implemented"),
        changes_failed=outcomes.count("failed"),
        sla_breaches=sla_breaches,
    )


def by_priority(targets: Sequence[ServiceTarget], resolved: Sequence[ResolvedIncident]) -> list[PriorityFigures]:
    """Targets against actuals, one line per priority that has a target or an incident."""
    priorities = sorted({t.priority for t in targets} | {r.priority for r in resolved})
    lines: list[PriorityFigures] = []
    for priority in priorities:
        target = next((t for t in targets if t.priority == priority), None)
        mine = [r for r in resolved if r.priority == priority]
        response_target = target.response_minutes * 60 if target and target.response_minutes is not None else None
        resolution_target = target.resolution_minutes * 60 if target and target.resolution_minutes is not None else None
        lines.append(
            PriorityFigures(
                priority=priority,
                response_target_s=response_target,
                resolution_target_s=resolution_target,
                resolved=len(mine),
                response=_times(
                    [r.response_s for r in mine if r.response_s is not None],
                    sum(r.response_breached for r in mine),
                    response_target,
                ),
                resolution=_times(
                    [r.resolution_s for r in mine], sum(r.resolution_breached for r in mine), resolution_target
                ),
            )
        )
    return lines


def _times(values: Sequence[float], breaches: int, target: int | None) -> TimeFigures:
    if not values:
        return TimeFigures(0, None, None, breaches, None)
    within = round(100.0 * (len(values) - breaches) / len(values), 2) if target is not None else None
    return TimeFigures(len(values), round(sum(values) / len(values), 1), max(values), breaches, within)
