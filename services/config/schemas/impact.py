"""API bodies of impact analysis: the CIs reached, each with its path (`api.impact` writes the
same JSON directly)."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from services.config.domain.impact import Direction, Reached
from services.config.domain.items import CIStatus, ConfigItem, Criticality
from services.config.domain.relationships import INVERSE_NAMES, RelationshipType
from shared.http import ApiModel


class CISummary(ApiModel):
    id: UUID
    number: str
    name: str
    type: str
    status: CIStatus
    criticality: Criticality

    @classmethod
    def of(cls, item: ConfigItem) -> CISummary:
        return cls.from_record(item, type=item.ci_type)


class PathStep(ApiModel):
    from_id: UUID
    to_id: UUID
    relationship: RelationshipType
    read_as: str = Field(description="The relationship as it reads along the path (depends_on, used_by, ...)")


class AffectedCI(ApiModel):
    ci: CISummary
    distance: int
    path: list[PathStep]

    @classmethod
    def of(cls, reached: Reached, item: ConfigItem) -> AffectedCI:
        return cls(
            ci=CISummary.of(item),
            distance=reached.distance,
            path=[
                PathStep(
                    from_id=s.from_id,
                    to_id=s.to_id,
                    relationship=s.type,
                    read_as=INVERSE_NAMES[s.type] if s.relationship_reversed else s.type.value,
                )
                for s in reached.path
            ],
        )


class ImpactRead(ApiModel):
    root: CISummary
    direction: Direction
    depth: int
    affected: list[AffectedCI]
    business_services: list[CISummary]


class ImpactView(StrEnum):
    FULL = "full"
    COMPACT = "compact"


class ImpactedCI(ApiModel):
    id: UUID
    distance: int


class ImpactPage(ApiModel):
    """`view=compact`: the CIs reached (the same as `ImpactRead.affected`, in the same order), ids
    and distances only, a page at a time."""

    root_id: UUID
    direction: Direction
    depth: int
    items: list[ImpactedCI]
    total: int = Field(description="CIs reached in all")
    limit: int
    offset: int
