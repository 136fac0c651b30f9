"""Events published by the configuration (CMDB) service."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventData


class Cause(BaseModel):
    """Why a CI changed: a change, a discovery run, an import or a manual edit, and by whom."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Literal["manual", "change", "discovery", "import"]
    reference: str | None = Field(default=None, description="The change number, discovery run id or import id")
    actor: str


class Identifiers(BaseModel):
    """What identifies a CI outside the CMDB (asset tag, DNS, cloud provider), as config records it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    serial: str | None = None
    hostname: str | None = None
    fqdn: str | None = None
    cloud_id: str | None = None


IDENTIFIERS_DESCRIPTION = "The CI's identifiers; absent from events of producers older than the field"


class ConfigItemCreated(EventData):
    routing_key: ClassVar[str] = "ci.created.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "A configuration item was registered in the CMDB (ISO/IEC 20000-1 9.1)."

    ci_id: UUID
    number: str = Field(examples=["CI0000001"])
    name: str
    type: str
    status: str
    criticality: int = Field(ge=1, le=4)
    created_at: datetime
    service_id: UUID | None = None
    supplier_id: UUID | None = None
    owner: str | None = None
    controlled: bool = False
    version: int = 1
    cause: Cause | None = None
    identifiers: Identifiers | None = Field(default=None, description=IDENTIFIERS_DESCRIPTION)


class ConfigItemUpdated(EventData):
    routing_key: ClassVar[str] = "ci.updated.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "A configuration item changed; `changes` holds each field's old and new value."

    ci_id: UUID
    number: str
    name: str
    type: str
    status: str
    criticality: int = Field(ge=1, le=4)
    service_id: UUID | None = None
    supplier_id: UUID | None = None
    version: int = Field(description="The CI's version after this change; consumers ignore older ones")
    changes: dict[str, dict[str, Any]] = Field(description="field -> {old, new}")
    cause: Cause
    updated_at: datetime
    identifiers: Identifiers | None = Field(default=None, description=IDENTIFIERS_DESCRIPTION)


class ConfigItemRetired(EventData):
    routing_key: ClassVar[str] = "ci.retired.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "A configuration item was retired (kept in the CMDB, no longer in service)."

    ci_id: UUID
    number: str
    version: int
    cause: Cause
    retired_at: datetime


class ConfigItemRelationshipChanged(EventData):
    routing_key: ClassVar[str] = "ci.relationship_changed.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "A relationship between CIs (or a CI and its supplier) was added or removed."

    relationship_id: UUID
    action: Literal["added", "removed"]
    source_id: UUID
    type: str = Field(examples=["depends_on", "runs_on", "supported_by"])
    target_id: UUID
    target_kind: Literal["ci", "supplier"] = "ci"
    cause: Cause
    occurred_at: datetime


class AppliedItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    index: int = Field(ge=0, description="Position of the item in the change's planned CI changes")
    action: str
    ci_id: UUID | None = None
    relationship_id: UUID | None = None
    version: int | None = None


class RejectedItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    index: int = Field(ge=0)
    action: str
    reason: str


class ConfigChangeApplied(EventData):
    routing_key: ClassVar[str] = "config.change_applied.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "The CMDB applied every planned CI change of an implemented change."

    change_id: UUID
    change_number: str
    items: list[AppliedItem]
    applied_at: datetime


class ConfigChangeRejected(EventData):
    routing_key: ClassVar[str] = "config.change_rejected.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = (
        "The CMDB refused an implemented change's planned CI changes; none was applied, `errors` says why per item."
    )

    change_id: UUID
    change_number: str
    errors: list[RejectedItem]
    rejected_at: datetime


class ConfigItemUnauthorisedChangeDetected(EventData):
    routing_key: ClassVar[str] = "ci.unauthorised_change_detected.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = (
        "Discovery saw a controlled CI differ from its record with no approved change covering it."
    )

    finding_id: UUID
    ci_id: UUID
    number: str
    name: str
    criticality: int = Field(ge=1, le=4)
    source: str = Field(description="The discovery source that observed it")
    run_id: UUID
    differences: dict[str, dict[str, Any]] = Field(description="field -> {old (recorded), new (observed)}")
    detected_at: datetime


class ConfigDiscoveryRunCompleted(EventData):
    routing_key: ClassVar[str] = "config.discovery_run_completed.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "A discovery run was reconciled with the CMDB; `counts` sums up its report."

    run_id: UUID
    source: str
    counts: dict[str, int]
    started_at: datetime
    finished_at: datetime


class _CapacityCrossing(EventData):
    """A CI's capacity metric crossed one of its thresholds (ISO/IEC 20000-1 6.5)."""

    ci_id: UUID
    metric: str = Field(examples=["disk_used_ratio"])
    unit: str = Field(examples=["ratio"])
    level: Literal["warning", "critical"] = Field(
        description="breached: the level reached; cleared: the level left (the value is now below it)"
    )
    current_level: Literal["ok", "warning", "critical"] = Field(
        description="Where the metric stands after this sample (cleared from critical may leave it at warning)"
    )
    value: float = Field(description="The sample that crossed, as Prometheus served it")
    warning: float
    critical: float
    sampled_at: datetime = Field(description="The instant of that sample (a grid point of the sampling)")


class CapacityThresholdBreached(_CapacityCrossing):
    routing_key: ClassVar[str] = "capacity.threshold_breached.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = (
        "A CI's capacity metric, sampled from Prometheus, reached its warning or critical threshold."
    )

    runway_to_critical_s: float | None = Field(
        default=None,
        description="A warning breach: seconds until the linear forecast reaches critical (none: not within"
        " the forecast horizon, or too few samples)",
    )


class CapacityThresholdCleared(_CapacityCrossing):
    routing_key: ClassVar[str] = "capacity.threshold_cleared.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "A CI's capacity metric, sampled from Prometheus, fell back below a threshold."

    breached_at: datetime | None = Field(
        default=None,
        description="The instant the metric entered the level now cleared: the sampled_at of the breach this"
        " clearing ends, so that a consumer taking the clearing first can wait for that breach (none from"
        " a producer older than this field)",
    )
