"""API bodies of configuration items: register, update, read, their versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from services.config.domain.items import CIStatus, ConfigItem, Criticality, Identifiers
from services.config.schemas.types import TypeName
from shared.http import ApiModel, Page, UpdateModel
from shared.json_limits import FreeJson

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
        return cls.from_record(identifiers)


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
    attributes: FreeJson = Field(default_factory=dict, description="Checked against the type's schema")
    identifiers: CIIdentifiers = Field(default_factory=CIIdentifiers)
    controlled: bool = Field(default=False, description="Under change control: edits then need an approved change")


class ConfigItemUpdate(UpdateModel):
    """Only the fields sent are changed. A controlled CI needs `change_number` (an approved change)."""

    required_on_record = ("name", "status", "criticality", "description", "attributes", "controlled")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: CIStatus | None = None
    criticality: Criticality | None = None
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    service_id: UUID | None = None
    supplier_id: UUID | None = None
    location_id: UUID | None = None
    product_version: str | None = Field(default=None, max_length=100)
    attributes: FreeJson | None = Field(default=None, description="Replaces the attributes as a whole")
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
        return cls.from_record(item, type=item.ci_type, identifiers=CIIdentifiers.of(item.identifiers))

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
