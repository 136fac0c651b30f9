"""Changes near continuity-tier services (ISO/IEC 20000-1 6.3.2: assess the impact of requests for
change on the continuity and availability plans), pure: a change touching a service a continuity
or availability plan covers states its continuity and availability impact before assessment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from shared.errors import RuleViolation


class ImpactLevel(StrEnum):
    NONE = "none"
    LOW = "low"
    HIGH = "high"


@dataclass(frozen=True)
class ContinuityImpact:
    """What a change says of its impact on the continuity and availability plans."""

    continuity_impact: ImpactLevel
    availability_impact: ImpactLevel
    notes: str

    def __post_init__(self) -> None:
        some = any(level is not ImpactLevel.NONE for level in (self.continuity_impact, self.availability_impact))
        if some and not self.notes.strip():
            raise RuleViolation("an impact other than none needs notes saying what it is", field="notes")


def continuity_tier(change_services: Iterable[UUID], covered: Iterable[UUID]) -> list[UUID]:
    """The change's services a continuity or availability plan covers, in order."""
    return sorted(set(change_services) & set(covered))


def require_impact_stated(
    number: str, change_services: Iterable[UUID], covered: Iterable[UUID], stated: ContinuityImpact | None
) -> None:
    """Before assessment: a change on a continuity-tier service has its impact stated (422 naming
    `continuity_impact` otherwise)."""
    tier = continuity_tier(change_services, covered)
    if tier and stated is None:
        services = ", ".join(str(s) for s in tier)
        raise RuleViolation(
            f"{number} touches continuity-tier service(s) {services}: state its continuity and availability"
            " impact (PUT .../continuity-impact) before assessment",
            field="continuity_impact",
        )
