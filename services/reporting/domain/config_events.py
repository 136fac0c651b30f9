"""What the config service's events set in the fact tables: CIs and the CMDB's findings (no I/O)."""

from __future__ import annotations

from typing import Any

from services.reporting.domain.facts import CIS, CMDB_FINDINGS, FactTable
from shared.events.config import (
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
