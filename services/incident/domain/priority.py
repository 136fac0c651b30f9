"""Priority and impact, shared by incidents and problems: impact x urgency -> priority (the matrix),
a CI's criticality -> impact, and the CI an incident is recorded on (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final
from uuid import UUID

from shared.errors import RuleViolation


class Impact(IntEnum):
    HIGH = 1
    MEDIUM = 2
    LOW = 3


class Urgency(IntEnum):
    HIGH = 1
    MEDIUM = 2
    LOW = 3


# ITIL's usual 3 x 3 matrix: 1 critical, 2 high, 3 moderate, 4 low, 5 planning.
DEFAULT_PRIORITY_MATRIX: Final[dict[tuple[Impact, Urgency], int]] = {
    (Impact.HIGH, Urgency.HIGH): 1,
    (Impact.HIGH, Urgency.MEDIUM): 2,
    (Impact.HIGH, Urgency.LOW): 3,
    (Impact.MEDIUM, Urgency.HIGH): 2,
    (Impact.MEDIUM, Urgency.MEDIUM): 3,
    (Impact.MEDIUM, Urgency.LOW): 4,
    (Impact.LOW, Urgency.HIGH): 3,
    (Impact.LOW, Urgency.MEDIUM): 4,
    (Impact.LOW, Urgency.LOW): 5,
}


PriorityMatrix = Mapping[tuple[Impact, Urgency], int]


def priority_for(impact: Impact, urgency: Urgency, matrix: PriorityMatrix = DEFAULT_PRIORITY_MATRIX) -> int:
    try:
        return matrix[(impact, urgency)]
    except KeyError:
        raise RuleViolation(f"the priority matrix has no entry for impact {impact} and urgency {urgency}") from None


def priority_matrix(rows: Sequence[Sequence[int]]) -> dict[tuple[Impact, Urgency], int]:
    """The matrix from its rows as configured: `rows[impact - 1][urgency - 1]` is the priority
    (1 critical .. 5 planning); every impact x urgency needs one."""
    if len(rows) != len(Impact) or any(len(row) != len(Urgency) for row in rows):
        raise ValueError(f"the priority matrix has {len(Impact)} rows (impact) of {len(Urgency)} priorities (urgency)")
    if any(not 1 <= p <= 5 for row in rows for p in row):
        raise ValueError("priorities run from 1 (critical) to 5 (planning)")
    return {(impact, urgency): rows[impact - 1][urgency - 1] for impact in Impact for urgency in Urgency}


# A CI's criticality (config: 1 critical, 2 high, 3 medium, 4 low) -> the impact an incident on
# it has when the caller gives none: a critical CI down hurts the business widely (high), a high
# or medium one a part of it (medium), a low one few people (low).
IMPACT_BY_CRITICALITY: Final[Mapping[int, Impact]] = {
    1: Impact.HIGH,
    2: Impact.MEDIUM,
    3: Impact.MEDIUM,
    4: Impact.LOW,
}


def impact_for_criticality(criticality: int) -> Impact:
    return IMPACT_BY_CRITICALITY.get(criticality, Impact.MEDIUM)


@dataclass(frozen=True)
class AffectedCI:
    """What the incident needs to know of its CI (from the local CI read model)."""

    id: UUID
    status: str
    criticality: int
    service_id: UUID | None

    @property
    def retired(self) -> bool:
        return self.status == "retired"


def known_ci(ci_id: UUID, ci: AffectedCI | None) -> AffectedCI:
    """A record names only a CI the CMDB told this service about (`ci`: what its read model knows)."""
    if ci is None:
        raise RuleViolation(
            f"configuration item {ci_id} is unknown here: it is not in the CMDB (or config has not told this"
            " service about it yet)",
            field="ci_id",
        )
    return ci


def check_ci(ci_id: UUID, ci: AffectedCI | None) -> AffectedCI:
    """An incident is recorded only on a CI the CMDB knows and has not retired."""
    known = known_ci(ci_id, ci)
    if known.retired:
        raise RuleViolation(f"configuration item {ci_id} is retired; record the incident on a live CI", field="ci_id")
    return known
