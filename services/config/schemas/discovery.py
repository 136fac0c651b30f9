"""API bodies of discovery: a run of observed items and relationships, and its stored report."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from services.config.domain.discovery import MAX_ITEMS, ObservedItem, ObservedRelationship, Outcome
from services.config.domain.relationships import RelationshipType
from services.config.schemas.items import CIIdentifiers
from services.config.schemas.types import TypeName
from shared.http import ApiModel, Page
from shared.json_limits import FreeJson


class ObservedItemBody(ApiModel):
    key: str = Field(min_length=1, max_length=200, description="The tool's own reference, used by relationships")
    type: str = TypeName
    name: str = Field(min_length=1, max_length=200)
    identifiers: CIIdentifiers
    attributes: FreeJson = Field(default_factory=dict)
    product_version: str | None = Field(default=None, max_length=100)

    def to_domain(self) -> ObservedItem:
        return ObservedItem(
            key=self.key,
            type=self.type,
            name=self.name,
            identifiers=self.identifiers.to_domain(),
            attributes=self.attributes,
            product_version=self.product_version,
        )


class ObservedRelationshipBody(ApiModel):
    source: str = Field(description="The key of an item in this run")
    type: RelationshipType
    target: str = Field(description="The key of an item in this run")

    def to_domain(self) -> ObservedRelationship:
        return ObservedRelationship(self.source, self.type.value, self.target)


class DiscoveryRunCreate(ApiModel):
    source: str = Field(min_length=1, max_length=100, examples=["vcenter-eu1", "aws-inventory"])
    items: list[ObservedItemBody] = Field(max_length=MAX_ITEMS)
    relationships: list[ObservedRelationshipBody] = Field(default_factory=list, max_length=5 * MAX_ITEMS)


class DiscoveryItemResult(ApiModel):
    key: str
    outcome: Outcome
    ci_id: UUID | None
    number: str | None
    detail: str | None
    changes: dict[str, dict[str, Any]] | None


class DiscoveryRunRead(ApiModel):
    id: UUID
    source: str
    actor: str
    started_at: datetime
    finished_at: datetime
    counts: dict[str, int] = Field(
        description="created, updated, unchanged, unauthorised, error, relationships_added, ..."
    )
    items: list[DiscoveryItemResult] = Field(description="Every item that was not unchanged")
    relationship_errors: list[str]


class DiscoveryRunSummary(ApiModel):
    id: UUID
    source: str
    actor: str
    started_at: datetime
    finished_at: datetime
    counts: dict[str, int]


DiscoveryRunPage = Page[DiscoveryRunSummary]
