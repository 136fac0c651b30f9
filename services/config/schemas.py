"""HTTP bodies of the configuration API, split by direction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from services.config.domain.discovery import MAX_ITEMS, ObservedItem, Outcome
from services.config.domain.impact import Direction, Reached
from services.config.domain.items import CIStatus, ConfigItem, Criticality, Identifiers
from services.config.domain.relationships import INVERSE_NAMES, Relationship, RelationshipType
from services.config.domain.types import TYPE_NAME, CIType
from shared.http import ApiModel, Page

# One or more RFC 1123 labels joined by dots; compared without case.
DNS_NAME_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"


class CIIdentifiers(ApiModel):
    serial: str | None = Field(default=None, min_length=1, max_length=100, description="Serial number or asset tag")
    hostname: str | None = Field(
        default=None,
        max_length=253,
        pattern=DNS_NAME_PATTERN,
        description="Held by one CI at a time until it is retired; compared without case",
    )
    fqdn: str | None = Field(default=None, max_length=253, pattern=DNS_NAME_PATTERN)
    cloud_id: str | None = Field(
        default=None, min_length=1, max_length=500, description="The provider's resource id (ARN, Azure id, ...)"
    )

    def to_domain(self) -> Identifiers:
        return Identifiers(serial=self.serial, hostname=self.hostname, fqdn=self.fqdn, cloud_id=self.cloud_id)

    @classmethod
    def of(cls, identifiers: Identifiers) -> CIIdentifiers:
        return cls(
            serial=identifiers.serial,
            hostname=identifiers.hostname,
            fqdn=identifiers.fqdn,
            cloud_id=identifiers.cloud_id,
        )


TypeName = Field(pattern=TYPE_NAME.pattern, description="A CI type (GET /api/v1/ci-types)", examples=["server"])


class CITypeCreate(ApiModel):
    name: str = Field(pattern=TYPE_NAME.pattern, examples=["kubernetes_cluster"])
    label: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    attribute_schema: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object"}, description="A JSON Schema (2020-12) for the CI's attributes"
    )


class CITypeRead(ApiModel):
    name: str
    label: str
    description: str
    attribute_schema: dict[str, Any]
    builtin: bool

    @classmethod
    def of(cls, ci_type: CIType) -> CITypeRead:
        return cls(
            name=ci_type.name,
            label=ci_type.label,
            description=ci_type.description,
            attribute_schema=ci_type.attribute_schema,
            builtin=ci_type.builtin,
        )


class ConfigItemCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    type: str = TypeName
    status: CIStatus = CIStatus.PLANNED
    criticality: Criticality = Field(default=Criticality.MEDIUM, description="1 critical .. 4 low")
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    service_id: UUID | None = Field(default=None, description="The business service (a CI) it belongs to")
    supplier_id: UUID | None = Field(default=None, description="The supplier that provides it")
    location_id: UUID | None = Field(default=None, description="Where it is (a CI of type location)")
    product_version: str | None = Field(default=None, max_length=100, description="Its software or model version")
    attributes: dict[str, Any] = Field(default_factory=dict, description="Checked against the type's schema")
    identifiers: CIIdentifiers = Field(default_factory=CIIdentifiers)
    controlled: bool = Field(default=False, description="Under change control: edits then need an approved change")


class ConfigItemUpdate(ApiModel):
    """Only the fields sent are changed. A controlled CI needs `change_number` (an approved change)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: CIStatus | None = None
    criticality: Criticality | None = None
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    service_id: UUID | None = None
    supplier_id: UUID | None = None
    location_id: UUID | None = None
    product_version: str | None = Field(default=None, max_length=100)
    attributes: dict[str, Any] | None = Field(default=None, description="Replaces the attributes as a whole")
    identifiers: CIIdentifiers | None = None
    controlled: bool | None = None
    change_number: str | None = Field(default=None, pattern=r"^CHG[0-9]{7}$", description="The approved change")

    def values(self) -> dict[str, Any]:
        sent = self.model_dump(exclude_unset=True, exclude={"change_number", "identifiers"})
        if "identifiers" in self.model_fields_set and self.identifiers is not None:
            sent["identifiers"] = self.identifiers.to_domain()
        return sent


class ChangeReference(ApiModel):
    change_number: str | None = Field(default=None, pattern=r"^CHG[0-9]{7}$", description="The approved change")


class ConfigItemRead(ApiModel):
    id: UUID
    number: str
    name: str
    type: str
    status: CIStatus
    criticality: Criticality
    owner: str | None
    description: str
    service_id: UUID | None
    supplier_id: UUID | None
    location_id: UUID | None
    product_version: str | None
    attributes: dict[str, Any]
    identifiers: CIIdentifiers
    controlled: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, item: ConfigItem) -> ConfigItemRead:
        return cls(
            id=item.id,
            number=item.number,
            name=item.name,
            type=item.ci_type,
            status=item.status,
            criticality=item.criticality,
            owner=item.owner,
            description=item.description,
            service_id=item.service_id,
            supplier_id=item.supplier_id,
            location_id=item.location_id,
            product_version=item.product_version,
            attributes=item.attributes,
            identifiers=CIIdentifiers.of(item.identifiers),
            controlled=item.controlled,
            created_at=item.created_at,
            updated_at=item.updated_at,
            version=item.version,
        )

    @classmethod
    def of_snapshot(cls, snapshot: dict[str, Any]) -> ConfigItemRead:
        return cls.model_validate(snapshot)


ConfigItemPage = Page[ConfigItemRead]


class VersionRead(ApiModel):
    version: int
    recorded_at: datetime
    actor: str
    cause_kind: str = Field(description="manual, change, discovery or import")
    cause_reference: str | None = Field(description="The change number, discovery run or import")
    changes: dict[str, dict[str, Any]] = Field(description="field -> {old, new}; empty for the first version")


VersionPage = Page[VersionRead]


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
        return cls(
            id=relationship.id,
            source_id=relationship.source_id,
            type=relationship.type,
            target_id=relationship.target_id,
            target_kind=relationship.target_kind,
            inverse=INVERSE_NAMES[relationship.type],
            created_at=relationship.created_at,
        )


class CISummary(ApiModel):
    id: UUID
    number: str
    name: str
    type: str
    status: CIStatus
    criticality: Criticality

    @classmethod
    def of(cls, item: ConfigItem) -> CISummary:
        return cls(
            id=item.id,
            number=item.number,
            name=item.name,
            type=item.ci_type,
            status=item.status,
            criticality=item.criticality,
        )


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


class ObservedItemBody(ApiModel):
    key: str = Field(min_length=1, max_length=200, description="The tool's own reference, used by relationships")
    type: str = TypeName
    name: str = Field(min_length=1, max_length=200)
    identifiers: CIIdentifiers
    attributes: dict[str, Any] = Field(default_factory=dict)
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


class BaselineCreate(ApiModel):
    """A service and everything it depends on (`service_id`), or the CIs of a type and/or status."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    service_id: UUID | None = None
    type: str | None = Field(default=None, pattern=TYPE_NAME.pattern)
    status: CIStatus | None = None


class BaselineRead(ApiModel):
    id: UUID
    name: str
    description: str
    scope: dict[str, Any]
    created_at: datetime
    created_by: str
    item_count: int


BaselinePage = Page[BaselineRead]


class ChangedCI(ApiModel):
    ci_id: UUID
    number: str
    name: str
    changes: dict[str, dict[str, Any]]


class BaselineComparison(ApiModel):
    baseline_id: UUID
    compared_with: str = Field(description="Another baseline's id, or 'now'")
    added: list[ConfigItemRead]
    removed: list[ConfigItemRead]
    changed: list[ChangedCI]
    unchanged: int


class FindingRead(ApiModel):
    id: UUID
    ci_id: UUID
    number: str
    name: str
    source: str
    run_id: UUID
    detected_at: datetime
    differences: dict[str, dict[str, Any]]


class NotSeenRead(ApiModel):
    id: UUID
    number: str
    name: str
    type: str
    last_seen_at: datetime
    last_seen_by: str | None


class UncontrolledEditRead(ApiModel):
    ci_id: UUID
    number: str
    name: str
    version: int
    recorded_at: datetime
    actor: str
    cause_kind: str
    changes: dict[str, dict[str, Any]]


class AuditReport(ApiModel):
    """ISO/IEC 20000-1 9.1 configuration audit: where the CMDB and reality or its rules disagree."""

    generated_at: datetime
    not_seen_days: int
    differs_from_observed: list[FindingRead] = Field(description="Open unauthorised-change findings from discovery")
    not_seen: list[NotSeenRead] = Field(description="Live CIs discovery has not seen for `not_seen_days`")
    controlled_changed_without_change: list[UncontrolledEditRead]


class ServiceRead(ApiModel):
    """A business service as the catalogue shows it."""

    id: UUID
    number: str
    name: str
    description: str
    owner: str | None
    status: CIStatus
    criticality: Criticality
    service_hours: str | None
    sla_tier: str | None
    member_count: int = Field(description="CIs that name it as their service")


ServicePage = Page[ServiceRead]


class ServiceDetail(ServiceRead):
    supporting: list[AffectedCI] = Field(description="What the service depends on, with the path to each")


class ImportRead(ApiModel):
    created: int
    updated: int
    unchanged: int


class AppliedChangeRead(ApiModel):
    number: str
    first_applied_at: datetime
    latest_version: int


class PlannedChangeRead(ApiModel):
    number: str
    status: str
    planned_start: datetime | None
    planned_end: datetime | None


class CIChangesRead(ApiModel):
    """The changes that touched a CI (9.1 traceability) and the approved ones that may still."""

    applied: list[AppliedChangeRead]
    planned: list[PlannedChangeRead]
