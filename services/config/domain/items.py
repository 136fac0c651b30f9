"""The configuration item: its record, identity rules, versions and the rules for changing it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any, Final, Literal
from uuid import UUID

from services.config.domain.types import CIType, check_attributes
from shared.errors import InvalidTransition, RuleViolation


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


CauseKind = Literal["manual", "change", "discovery", "import"]


@dataclass(frozen=True)
class Cause:
    """Why a CI changed, and who made the change."""

    kind: CauseKind
    actor: str
    reference: str | None = None


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


# Fields a client may set; each is recorded in the CI's history when it changes.
EDITABLE_FIELDS: Final = (
    "name",
    "description",
    "status",
    "criticality",
    "owner",
    "service_id",
    "supplier_id",
    "location_id",
    "product_version",
    "identifiers",
    "attributes",
    "controlled",
)


@dataclass(frozen=True)
class ItemRegistered:
    ci_id: UUID
    cause: Cause


@dataclass(frozen=True)
class ItemUpdated:
    ci_id: UUID
    changes: dict[str, dict[str, Any]]
    cause: Cause


@dataclass(frozen=True)
class ItemRetired:
    ci_id: UUID
    cause: Cause


ItemEvent = ItemRegistered | ItemUpdated | ItemRetired


@dataclass
class ConfigItem:
    id: UUID
    number: str
    name: str
    ci_type: str
    status: CIStatus
    criticality: Criticality
    owner: str | None
    attributes: dict[str, Any]
    identifiers: Identifiers
    created_at: datetime
    updated_at: datetime
    description: str = ""
    service_id: UUID | None = None
    supplier_id: UUID | None = None
    location_id: UUID | None = None
    product_version: str | None = None
    controlled: bool = False
    version: int = 1
    pending_events: list[ItemEvent] = field(default_factory=list, compare=False, repr=False)

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
        cause: Cause,
        description: str = "",
        service_id: UUID | None = None,
        supplier_id: UUID | None = None,
        location_id: UUID | None = None,
        product_version: str | None = None,
        controlled: bool = False,
    ) -> ConfigItem:
        if not name.strip():
            raise RuleViolation("a configuration item needs a name", field="name")
        check_attributes(ci_type, attributes)
        if service_id == ci_id:
            raise RuleViolation("a CI cannot belong to itself", field="service_id")
        item = cls(
            id=ci_id,
            number=number,
            name=name.strip(),
            ci_type=ci_type.name,
            status=status,
            criticality=criticality,
            owner=owner,
            attributes=dict(attributes),
            identifiers=identifiers.normalised(),
            created_at=now,
            updated_at=now,
            description=description,
            service_id=service_id,
            supplier_id=supplier_id,
            location_id=location_id,
            product_version=product_version,
            controlled=controlled,
        )
        item.pending_events.append(ItemRegistered(ci_id, cause))
        return item

    def snapshot(self) -> dict[str, Any]:
        """The record as plain JSON values: what a version stores and `as_of` returns."""
        return {
            "id": str(self.id),
            "number": self.number,
            "name": self.name,
            "type": self.ci_type,
            "status": self.status.value,
            "criticality": int(self.criticality),
            "owner": self.owner,
            "description": self.description,
            "service_id": _str(self.service_id),
            "supplier_id": _str(self.supplier_id),
            "location_id": _str(self.location_id),
            "product_version": self.product_version,
            "identifiers": {
                "serial": self.identifiers.serial,
                "hostname": self.identifiers.hostname,
                "fqdn": self.identifiers.fqdn,
                "cloud_id": self.identifiers.cloud_id,
            },
            "attributes": self.attributes,
            "controlled": self.controlled,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

    def update(self, values: Mapping[str, Any], ci_type: CIType, *, now: datetime, cause: Cause) -> dict[str, Any]:
        """Set the given fields; returns the diff (empty when nothing changed, and then no new version)."""
        unknown = sorted(set(values) - set(EDITABLE_FIELDS))
        if unknown:
            raise RuleViolation.of_fields([(name, "not a field that can be changed") for name in unknown])
        if self.status is CIStatus.RETIRED:
            raise InvalidTransition("update", self.status.value, [])
        if values.get("status") == CIStatus.RETIRED:
            raise RuleViolation("retire a CI with its retire action, not by setting its status", field="status")
        before = self.snapshot()
        candidate = replace(self, pending_events=[])
        for name, value in values.items():
            setattr(candidate, name, _coerce(name, value))
        if not candidate.name.strip():
            raise RuleViolation("a configuration item needs a name", field="name")
        if candidate.service_id == self.id:
            raise RuleViolation("a CI cannot belong to itself", field="service_id")
        if "attributes" in values:
            check_attributes(ci_type, candidate.attributes)
        changes = diff(before, candidate.snapshot())
        if not changes:
            return {}
        for name in EDITABLE_FIELDS:
            setattr(self, name, getattr(candidate, name))
        self.version += 1
        self.updated_at = now
        self.pending_events.append(ItemUpdated(self.id, changes, cause))
        return changes

    def retire(self, *, now: datetime, cause: Cause) -> None:
        if self.status is CIStatus.RETIRED:
            raise InvalidTransition("retire", self.status.value, [])
        self.status = CIStatus.RETIRED
        self.version += 1
        self.updated_at = now
        self.pending_events.append(ItemRetired(self.id, cause))


def _str(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


def _coerce(name: str, value: Any) -> Any:
    if name == "status":
        return CIStatus(value)
    if name == "criticality":
        return Criticality(value)
    if name == "identifiers":
        return (value if isinstance(value, Identifiers) else Identifiers(**value)).normalised()
    if name in ("service_id", "supplier_id", "location_id") and value is not None:
        return value if isinstance(value, UUID) else UUID(str(value))
    if name == "attributes":
        return dict(value)
    return value


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], *, skip: tuple[str, ...] = ("version", "updated_at")
) -> dict[str, dict[str, Any]]:
    """Field -> {old, new} for every field whose value differs; nested objects by their own keys
    (`attributes.cpu_cores`), so a history entry says exactly what moved. The record's bookkeeping
    (`skip`) is left out at the top only: an attribute may well be called `version`."""
    changes: dict[str, dict[str, Any]] = {}
    for key in sorted(set(before) | set(after)):
        if key in skip:
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            for sub, change in diff(old, new, skip=()).items():
                changes[f"{key}.{sub}"] = change
        else:
            changes[key] = {"old": old, "new": new}
    return changes


@dataclass(frozen=True)
class ChangeWindow:
    """What config knows of a change from the change service's events (a local read model)."""

    change_id: UUID
    number: str
    status: str
    planned_start: datetime | None
    planned_end: datetime | None
    affected_ci_ids: frozenset[UUID]

    def authorises(self, ci_id: UUID, now: datetime) -> str | None:
        """None when this change allows editing `ci_id` by hand now; otherwise why not. Only an
        approved (or implementing) change, naming the CI, inside its implementation window: once
        implemented, its CI changes come with its own `change.implemented.v1`, not by hand."""
        if self.status not in ("approved", "implementing"):
            return f"change {self.number} is {self.status}, not approved"
        if ci_id not in self.affected_ci_ids:
            return f"change {self.number} does not list this CI among its affected CIs"
        if self.planned_start is None or self.planned_end is None:
            return f"change {self.number} has no implementation window (planned start and end)"
        if now < self.planned_start:
            return f"change {self.number}'s window opens at {self.planned_start.isoformat()}"
        if now > self.planned_end:
            return f"change {self.number}'s window closed at {self.planned_end.isoformat()}"
        return None


def require_change_for_controlled(
    item: ConfigItem, change: ChangeWindow | None, change_number: str | None, now: datetime
) -> None:
    """A controlled CI changes only under an approved change whose window is open (ISO/IEC 20000-1 9.1)."""
    if not item.controlled:
        return
    if change_number is None:
        raise RuleViolation(
            f"{item.number} is under change control: name an approved change in change_number", field="change_number"
        )
    if change is None:
        raise RuleViolation(f"change {change_number} is not known to the CMDB", field="change_number")
    if (reason := change.authorises(item.id, now)) is not None:
        raise RuleViolation(reason, field="change_number")
