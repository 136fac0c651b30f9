"""Clause 5 as pure code: the design and transition record a change needs before approval.

ISO/IEC 20000-1 clause 5 (2018: 8.5.2) routes new services, changes with potential major impact,
and the removal or transfer of a service through design and transition. Here such a change
(flagged `major`, or with a `service_transition`) carries a record of the service requirements,
the acceptance criteria, the service level targets and the capacity it needs; it cannot be
approved until each is filled in, and it cannot be closed after implementation until the go-live
acceptance (criteria met or not, and who decided) is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from shared.errors import RuleViolation


class ServiceTransition(StrEnum):
    """What a change does to a service as a whole (each needs design and transition)."""

    NEW_SERVICE = "new_service"
    SERVICE_REMOVAL = "service_removal"
    SERVICE_TRANSFER = "service_transfer"


@dataclass(frozen=True)
class ServiceLevelTarget:
    metric: str
    target: str


@dataclass(frozen=True)
class GoLiveAcceptance:
    """5.4: the service verified against its acceptance criteria, and the decision taken."""

    accepted: bool
    by: str
    at: datetime
    comment: str


@dataclass(frozen=True)
class DesignRecord:
    requirements: str = ""
    acceptance_criteria: tuple[str, ...] = ()
    service_level_targets: tuple[ServiceLevelTarget, ...] = ()
    capacity: str = ""
    updated_by: str = ""
    updated_at: datetime | None = None
    go_live: GoLiveAcceptance | None = None

    def missing(self) -> list[str]:
        """The parts still empty, by field name, in a stable order."""
        gaps = []
        if not self.requirements.strip():
            gaps.append("requirements")
        if not any(c.strip() for c in self.acceptance_criteria):
            gaps.append("acceptance_criteria")
        if not self.service_level_targets:
            gaps.append("service_level_targets")
        if not self.capacity.strip():
            gaps.append("capacity")
        return gaps


def design_record(
    *,
    requirements: str,
    acceptance_criteria: Iterable[str],
    service_level_targets: Iterable[ServiceLevelTarget],
    capacity: str,
    by: str,
    now: datetime,
    go_live: GoLiveAcceptance | None = None,
) -> DesignRecord:
    targets = tuple(service_level_targets)
    for i, target in enumerate(targets):
        if not target.metric.strip() or not target.target.strip():
            raise RuleViolation(
                "a service level target names a metric and its target", field=f"service_level_targets.{i}"
            )
    return DesignRecord(
        requirements=requirements.strip(),
        acceptance_criteria=tuple(c.strip() for c in acceptance_criteria if c.strip()),
        service_level_targets=targets,
        capacity=capacity.strip(),
        updated_by=by,
        updated_at=now,
        go_live=go_live,
    )
