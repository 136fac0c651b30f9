"""What the config service's events set in the fact tables: CIs, the CMDB's findings and capacity
threshold crossings (no I/O)."""

from __future__ import annotations

from typing import Any

from services.reporting.domain.facts import CAPACITY, CIS, CMDB_FINDINGS, FactTable
from shared.events.config import (
    CapacityThresholdBreached,
    CapacityThresholdCleared,
    ConfigItemCreated,
    ConfigItemRetired,
    ConfigItemUnauthorisedChangeDetected,
    ConfigItemUpdated,
)


def ci(data: ConfigItemCreated | ConfigItemUpdated) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "ci_id": data.ci_id,
        "number": data.number,
        "name": data.name,
        "type": data.type,
        "status": data.status,
        "criticality": data.criticality,
        "service_id": data.service_id,
        "supplier_id": data.supplier_id,
    }
    if isinstance(data, ConfigItemCreated):
        values["created_at"] = data.created_at
    return [(CIS, values)]


def ci_retired(data: ConfigItemRetired) -> list[tuple[FactTable, dict[str, Any]]]:
    return [(CIS, {"ci_id": data.ci_id, "number": data.number, "status": "retired", "retired_at": data.retired_at})]


def unauthorised(data: ConfigItemUnauthorisedChangeDetected) -> list[tuple[FactTable, dict[str, Any]]]:
    return [
        (
            CMDB_FINDINGS,
            {
                "finding_id": str(data.finding_id),
                "kind": "unauthorised_change",
                "ci_id": data.ci_id,
                "detected_at": data.detected_at,
            },
        )
    ]


def capacity_crossing(
    data: CapacityThresholdBreached | CapacityThresholdCleared,
) -> list[tuple[FactTable, dict[str, Any]]]:
    """Where the CI's metric stands after the crossing, and the count of breaches; a warning
    breach's runway to critical (kept until the next warning breach that has one)."""
    values: dict[str, Any] = {
        "ci_id": data.ci_id,
        "metric": data.metric,
        "unit": data.unit,
        "level": data.current_level,
        "value": data.value,
        "warning": data.warning,
        "critical": data.critical,
    }
    if isinstance(data, CapacityThresholdBreached):
        critical = data.level == "critical"
        values |= {"breaches": 1, "critical_breaches": 1 if critical else 0, "last_breached_at": data.sampled_at}
        if data.runway_to_critical_s is not None:
            values["runway_to_critical_s"] = data.runway_to_critical_s
    else:
        values["last_cleared_at"] = data.sampled_at
    return [(CAPACITY, values)]
