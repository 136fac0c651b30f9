"""The change schedule as pure code: which changes collide, blackout windows, maintenance windows.

A change's window conflicts with:

- `same_ci`: another change on the schedule, in an overlapping window, on a CI it also changes;
- `dependent_ci`: another change on the schedule, in an overlapping window, on a CI related to one
  of its CIs (one depends on, runs on, ... the other, either direction; how many hops is the
  caller's choice: `related` holds, for each of the change's CIs, the CIs that far from it);
- `blackout`: a blackout window it overlaps that covers one of its CIs (or everything, when the
  blackout names none);
- `outside_maintenance_window`: a service of the change has maintenance windows and their
  openings do not cover the change's whole window.

The policy says, per kind, whether the conflict is a warning the change manager sees and decides
on, or refuses scheduling. By default only a blackout refuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from services.change.domain.maintenance import MaintenanceWindow, covers


class Severity(StrEnum):
    WARNING = "warning"
    REFUSED = "refused"


class ConflictKind(StrEnum):
    SAME_CI = "same_ci"
    DEPENDENT_CI = "dependent_ci"
    BLACKOUT = "blackout"
    OUTSIDE_MAINTENANCE_WINDOW = "outside_maintenance_window"


@dataclass(frozen=True)
class ConflictPolicy:
    refused: frozenset[ConflictKind] = frozenset({ConflictKind.BLACKOUT})
    """The kinds that refuse scheduling; the others are warnings."""

    def severity(self, kind: ConflictKind) -> Severity:
        return Severity.REFUSED if kind in self.refused else Severity.WARNING


DEFAULT_POLICY = ConflictPolicy()


@dataclass(frozen=True)
class Slot:
    """A change as the schedule sees it."""

    change_id: UUID
    number: str
    start: datetime
    end: datetime
    ci_ids: frozenset[UUID]
    service_ids: frozenset[UUID] = frozenset()


@dataclass(frozen=True)
class Blackout:
    id: UUID
    name: str
    start: datetime
    end: datetime
    ci_ids: frozenset[UUID]
    """Empty: the blackout covers every CI."""


@dataclass(frozen=True)
class Conflict:
    severity: Severity
    kind: str
    detail: str
    other: str
    """The other change's number, the blackout's name, or the service's id."""
    ci_ids: tuple[UUID, ...] = ()


@dataclass(frozen=True)
class Surroundings:
    """What a change's window is checked against, beside the other changes and blackouts."""

    related: Mapping[UUID, frozenset[UUID]] = field(default_factory=dict)
    """For each CI of the change, the CIs related to it (either direction, within the depth looked at)."""
    maintenance: Mapping[UUID, Sequence[MaintenanceWindow]] = field(default_factory=dict)
    """For each service of the change, its maintenance windows (none: no constraint)."""


def _overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def conflicts(
    slot: Slot,
    others: Iterable[Slot],
    blackouts: Iterable[Blackout],
    surroundings: Surroundings | None = None,
    policy: ConflictPolicy = DEFAULT_POLICY,
) -> list[Conflict]:
    around = surroundings or Surroundings()
    found: list[Conflict] = []

    def add(kind: ConflictKind, detail: str, other: str, ci_ids: Iterable[UUID] = ()) -> None:
        found.append(Conflict(policy.severity(kind), kind.value, detail, other, tuple(sorted(ci_ids))))

    for blackout in blackouts:
        if not _overlap(slot.start, slot.end, blackout.start, blackout.end):
            continue
        shared = slot.ci_ids & blackout.ci_ids if blackout.ci_ids else slot.ci_ids
        if blackout.ci_ids and not shared:
            continue
        add(
            ConflictKind.BLACKOUT,
            f"the window overlaps the blackout {blackout.name!r} "
            f"({blackout.start.isoformat()} to {blackout.end.isoformat()})",
            blackout.name,
            shared,
        )
    related = frozenset().union(*(around.related.get(ci, frozenset()) for ci in slot.ci_ids)) - slot.ci_ids
    for other in others:
        if other.change_id == slot.change_id or not _overlap(slot.start, slot.end, other.start, other.end):
            continue
        if shared := slot.ci_ids & other.ci_ids:
            add(
                ConflictKind.SAME_CI,
                f"{other.number} changes {len(shared)} of the same CI(s) in an overlapping window",
                other.number,
                shared,
            )
        if dependent := (other.ci_ids - slot.ci_ids) & related:
            add(
                ConflictKind.DEPENDENT_CI,
                f"{other.number} changes {len(dependent)} CI(s) that depend on this change's CIs, or that they"
                " depend on, in an overlapping window",
                other.number,
                dependent,
            )
    for service_id in sorted(slot.service_ids):
        windows = around.maintenance.get(service_id, ())
        if windows and not covers(windows, slot.start, slot.end):
            add(
                ConflictKind.OUTSIDE_MAINTENANCE_WINDOW,
                f"the window is not inside the maintenance windows of service {service_id}: "
                + "; ".join(w.describe() for w in windows),
                str(service_id),
            )
    return found
