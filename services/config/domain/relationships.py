"""Typed, directed relationships between CIs, and between a CI and the supplier that supports it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, Literal
from uuid import UUID

from services.config.domain.items import Cause
from shared.errors import RuleViolation


class RelationshipType(StrEnum):
    DEPENDS_ON = "depends_on"
    RUNS_ON = "runs_on"
    CONNECTS_TO = "connects_to"
    MEMBER_OF = "member_of"
    BACKED_UP_BY = "backed_up_by"
    SUPPORTED_BY = "supported_by"


# How each relationship reads from its target's side.
INVERSE_NAMES: Final[dict[RelationshipType, str]] = {
    RelationshipType.DEPENDS_ON: "used_by",
    RelationshipType.RUNS_ON: "hosts",
    RelationshipType.CONNECTS_TO: "connects_to",
    RelationshipType.MEMBER_OF: "has_member",
    RelationshipType.BACKED_UP_BY: "backs_up",
    RelationshipType.SUPPORTED_BY: "supports",
}

TargetKind = Literal["ci", "supplier"]


def target_kind_of(kind: RelationshipType) -> TargetKind:
    """`supported_by` points at a supplier (from the supplier service); every other type at a CI."""
    return "supplier" if kind is RelationshipType.SUPPORTED_BY else "ci"


@dataclass(frozen=True)
class RelationshipAdded:
    relationship_id: UUID
    cause: Cause


@dataclass(frozen=True)
class RelationshipRemoved:
    relationship_id: UUID
    cause: Cause


@dataclass
class Relationship:
    id: UUID
    source_id: UUID
    type: RelationshipType
    target_id: UUID
    created_at: datetime

    @property
    def target_kind(self) -> TargetKind:
        return target_kind_of(self.type)

    @classmethod
    def link(
        cls, *, relationship_id: UUID, source_id: UUID, kind: RelationshipType, target_id: UUID, now: datetime
    ) -> Relationship:
        if source_id == target_id:
            raise RuleViolation("a CI cannot be related to itself", field="target_id")
        return cls(id=relationship_id, source_id=source_id, type=kind, target_id=target_id, created_at=now)
