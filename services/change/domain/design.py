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
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Final

from shared.errors import Conflict, RuleViolation


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


# ---------------------------------------------------------------------------- the change's clause 5 steps

DESIGN_EDITABLE: Final = frozenset({"draft", "submitted", "assessed"})
"""The change statuses in which its design record may still be written (before the decision)."""
GO_LIVE_STATUSES: Final = frozenset({"implemented", "failed", "reviewed"})
"""The change statuses in which its go-live acceptance is recorded (after implementation)."""


class ClauseFive:
    """Design and transition, mixed into `domain.changes.Change`, whose fields these are."""

    number: str
    status: StrEnum
    version: int
    updated_at: datetime
    major: bool
    service_transition: ServiceTransition | None
    design: DesignRecord | None

    def needs_design(self) -> bool:
        return self.major or self.service_transition is not None

    def design_missing(self) -> list[str]:
        """What the design and transition record still lacks (nothing when the change needs none)."""
        if not self.needs_design():
            return []
        return (self.design or DesignRecord()).missing()

    def record_design(self, record: DesignRecord, now: datetime) -> None:
        """Write the design and transition record; it is settled once the change is decided."""
        if self.status not in DESIGN_EDITABLE:
            raise Conflict(
                f"the design record of {self.number} is settled once it is approved or rejected"
                f" (the change is '{self.status.value}')",
                state=self.status.value,
            )
        self.design = record
        self.version += 1
        self.updated_at = now

    def accept_go_live(self, *, accepted: bool, comment: str, actor: str, now: datetime) -> None:
        """5.4: after implementation, the decision whether the service met its acceptance criteria."""
        if self.design is None:
            raise Conflict(f"{self.number} has no design and transition record to accept against")
        if self.status not in GO_LIVE_STATUSES:
            raise Conflict(
                f"go-live acceptance follows implementation; {self.number} is '{self.status.value}'",
                state=self.status.value,
            )
        if self.design.go_live is not None:
            raise Conflict(f"the go-live acceptance of {self.number} is already recorded")
        if not accepted and not comment.strip():
            raise RuleViolation("say which acceptance criteria were not met and what was decided", field="comment")
        self.design = replace(self.design, go_live=GoLiveAcceptance(accepted, actor, now, comment))
        self.version += 1
        self.updated_at = now
