"""The change schedule as pure code: which changes collide, and blackout windows.

Two changes conflict when their windows overlap and they touch a common CI. A change conflicts
with a blackout window when its window overlaps the blackout and the blackout covers one of its
CIs (or everything, when it names none). A blackout refuses scheduling; an overlap is a warning
the change manager sees and decides on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class Severity(StrEnum):
    WARNING = "warning"
    REFUSED = "refused"


@dataclass(frozen=True)
class Slot:
    """A change as the schedule sees it."""

    change_id: UUID
    number: str
    start: datetime
    end: datetime
    ci_ids: frozenset[UUID]


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
    ci_ids: tuple[UUID, ...] = ()


def _overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def conflicts(slot: Slot, others: Iterable[Slot], blackouts: Iterable[Blackout]) -> list[Conflict]:
    found: list[Conflict] = []
    for blackout in blackouts:
        if not _overlap(slot.start, slot.end, blackout.start, blackout.end):
            continue
        shared = slot.ci_ids & blackout.ci_ids if blackout.ci_ids else slot.ci_ids
        if blackout.ci_ids and not shared:
            continue
        found.append(
            Conflict(
                Severity.REFUSED,
                "blackout",
                f"the window overlaps the blackout {blackout.name!r} "
                f"({blackout.start.isoformat()} to {blackout.end.isoformat()})",
                blackout.name,
                tuple(sorted(shared)),
            )
        )
    for other in others:
        if other.change_id == slot.change_id or not _overlap(slot.start, slot.end, other.start, other.end):
            continue
        if shared := slot.ci_ids & other.ci_ids:
            found.append(
                Conflict(
                    Severity.WARNING,
                    "same_ci",
                    f"{other.number} changes {len(shared)} of the same CI(s) in an overlapping window",
                    other.number,
                    tuple(sorted(shared)),
                )
            )
    return found
