"""The terms a contract states: their names, defaults, value types (charging basis, targets per
priority, reporting obligations) and how the API's plain values become them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final
from uuid import UUID


class ChargingBasis(StrEnum):
    FIXED = "fixed"
    SUBSCRIPTION = "subscription"
    PER_UNIT = "per_unit"
    PER_INCIDENT = "per_incident"
    TIME_AND_MATERIALS = "time_and_materials"
    OTHER = "other"


@dataclass(frozen=True)
class ServiceTarget:
    """Response and resolution times the supplier commits to for one incident priority (minutes)."""

    priority: int
    response_minutes: int | None = None
    resolution_minutes: int | None = None


@dataclass(frozen=True)
class ReportingObligation:
    report: str
    frequency: str


TERM_FIELDS: Final = (
    "title",
    "scope",
    "service_ids",
    "ci_ids",
    "starts_on",
    "ends_on",
    "notice_period_days",
    "renewal_terms",
    "value",
    "currency",
    "charging_basis",
    "targets",
    "availability_pct",
    "workload_limits",
    "exceptions",
    "reporting_obligations",
    "exit_terms",
    "document_refs",
    "owner",
)

AMENDABLE_FIELDS: Final = tuple(f for f in TERM_FIELDS if f not in ("starts_on", "ends_on"))
"""The term dates change by renewal (a new term), not by amendment."""


DEFAULT_TERMS: Final[Mapping[str, Any]] = {
    "scope": "",
    "service_ids": (),
    "ci_ids": (),
    "notice_period_days": 90,
    "renewal_terms": "",
    "value": None,
    "currency": None,
    "charging_basis": ChargingBasis.FIXED,
    "targets": (),
    "availability_pct": None,
    "workload_limits": "",
    "exceptions": "",
    "reporting_obligations": (),
    "exit_terms": "",
    "document_refs": (),
}


def coerce_term(name: str, value: Any) -> Any:
    """Terms as the domain holds them (the API gives lists and plain mappings)."""
    if name in ("service_ids", "ci_ids"):
        return tuple(dict.fromkeys(UUID(str(v)) for v in value))
    if name == "targets":
        targets = (t if isinstance(t, ServiceTarget) else ServiceTarget(**t) for t in value)
        return tuple(sorted(targets, key=lambda t: t.priority))
    if name == "reporting_obligations":
        return tuple(o if isinstance(o, ReportingObligation) else ReportingObligation(**o) for o in value)
    if name == "document_refs":
        return tuple(value)
    if name == "charging_basis":
        return ChargingBasis(value)
    if name == "value" and value is not None:
        return Decimal(str(value))
    if name == "currency" and value is not None:
        return str(value).upper()
    return value
