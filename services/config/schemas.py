"""HTTP bodies of the configuration API, split by direction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from services.config.domain import CIStatus, CIType, ConfigItem, Criticality, Identifiers
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


class ConfigItemCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    type: CIType
    status: CIStatus = CIStatus.PLANNED
    criticality: Criticality = Field(default=Criticality.MEDIUM, description="1 critical .. 4 low")
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict, description="Type-specific attributes, a JSON object")
    identifiers: CIIdentifiers = Field(default_factory=CIIdentifiers)


class ConfigItemRead(ApiModel):
    id: UUID
    number: str
    name: str
    type: CIType
    status: CIStatus
    criticality: Criticality
    owner: str | None
    attributes: dict[str, Any]
    identifiers: CIIdentifiers
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
            attributes=item.attributes,
            identifiers=CIIdentifiers.of(item.identifiers),
            created_at=item.created_at,
            updated_at=item.updated_at,
            version=item.version,
        )


ConfigItemPage = Page[ConfigItemRead]
