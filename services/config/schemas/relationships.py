"""API bodies of relationships between CIs."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from services.config.domain.relationships import INVERSE_NAMES, Relationship, RelationshipType
from shared.http import ApiModel


class RelationshipCreate(ApiModel):
    source_id: UUID
    type: RelationshipType
    target_id: UUID = Field(description="A CI, or a supplier for supported_by")
    change_number: str | None = Field(default=None, pattern=r"^CHG[0-9]{7}$")


class RelationshipRead(ApiModel):
    id: UUID
    source_id: UUID
    type: RelationshipType
    target_id: UUID
    target_kind: str
    inverse: str = Field(description="How it reads from the target: used_by, hosts, ...")
    created_at: datetime

    @classmethod
    def of(cls, relationship: Relationship) -> RelationshipRead:
        return cls.from_record(relationship, inverse=INVERSE_NAMES[relationship.type])
