"""Configuration items as pure domain code: CI types, the CI record and its identity rules (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any
from uuid import UUID

from shared.errors import RuleViolation


class CIType(StrEnum):
    BUSINESS_SERVICE = "business_service"
    APPLICATION = "application"
    APPLICATION_INSTANCE = "application_instance"
    SERVER = "server"
    VIRTUAL_MACHINE = "virtual_machine"
    CONTAINER_WORKLOAD = "container_workload"
    DATABASE = "database"
    NETWORK_DEVICE = "network_device"
    STORAGE = "storage"
    DOCUMENT = "document"
    LOCATION = "location"


class CIStatus(StrEnum):
    PLANNED = "planned"
    IN_BUILD = "in_build"
    LIVE = "live"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


class Criticality(IntEnum):
    """How much the business depends on the CI; incidents on it take their impact from this."""

    CRITICAL = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4


@dataclass(frozen=True)
class Identifiers:
    """What identifies a CI outside the CMDB (asset tag, DNS, cloud provider); all optional."""

    serial: str | None = None
    hostname: str | None = None
    fqdn: str | None = None
    cloud_id: str | None = None

    def normalised(self) -> Identifiers:
        """DNS names compare without case: keep them lower-case so equal names are equal strings."""
        return replace(
            self,
            hostname=self.hostname.lower() if self.hostname else None,
            fqdn=self.fqdn.lower() if self.fqdn else None,
        )


def hostname_claim(status: CIStatus, identifiers: Identifiers) -> str | None:
    """The hostname a CI holds for itself alone: its own, until it is retired (then it is free again)."""
    if status is CIStatus.RETIRED:
        return None
    return identifiers.normalised().hostname


@dataclass(frozen=True)
class ConfigItemRegistered:
    """Domain event: a configuration item was registered."""

    ci_id: UUID


@dataclass
class ConfigItem:
    id: UUID
    number: str
    name: str
    ci_type: CIType
    status: CIStatus
    criticality: Criticality
    owner: str | None
    attributes: dict[str, Any]
    identifiers: Identifiers
    created_at: datetime
    updated_at: datetime
    version: int = 1
    pending_events: list[ConfigItemRegistered] = field(default_factory=list, compare=False, repr=False)

    @property
    def hostname_claim(self) -> str | None:
        return hostname_claim(self.status, self.identifiers)

    @classmethod
    def register(
        cls,
        *,
        ci_id: UUID,
        number: str,
        name: str,
        ci_type: CIType,
        status: CIStatus,
        criticality: Criticality,
        owner: str | None,
        attributes: dict[str, Any],
        identifiers: Identifiers,
        now: datetime,
    ) -> ConfigItem:
        if not name.strip():
            raise RuleViolation("a configuration item needs a name", field="name")
        item = cls(
            id=ci_id,
            number=number,
            name=name.strip(),
            ci_type=ci_type,
            status=status,
            criticality=criticality,
            owner=owner,
            attributes=dict(attributes),
            identifiers=identifiers.normalised(),
            created_at=now,
            updated_at=now,
        )
        item.pending_events.append(ConfigItemRegistered(ci_id))
        return item
