"""Unplanned outages and their investigation (ISO/IEC 20000-1 6.3): the `outage-investigations`
report lists the unplanned outages over the threshold that have no problem linked.

An unplanned outage is what the availability report counts: a priority 1 or major incident on a
service, from opened to resolved. The incident service opens a problem for such an outage when
nobody links one within its grace period (its `INCIDENT_OUTAGE_INVESTIGATION_*` settings); this
report shows the ones still without (within the grace period, or when that job is behind), from
`incident.*` and `incident.linked_to_problem.v1` events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from services.reporting.domain.figures import Result, Row

DEFAULT_THRESHOLD = timedelta(minutes=60)

DEFINITION: dict[str, Any] = {
    "name": "outage-investigations",
    "title": "Unplanned outages without an investigation",
    "purpose": (
        "Service continuity and availability (6.3): every unplanned outage longer than the threshold is"
        " investigated by a problem; the outages that still have none"
    ),
    "audience": ("availability manager", "problem manager", "service owners"),
    "frequency": "weekly",
    "data_source": (
        "incident.* and incident.linked_to_problem.v1 events (outage: a priority 1 or major incident on the"
        " service, opened -> resolved); service names from ci.* events"
    ),
    "filters": ("from", "to", "service_id"),
    "period_applies_to": "the outage's resolved_at",
    "columns": {
        "incident_id": "the incident",
        "number": "its number",
        "service_id": "the service",
        "service_name": "the service's name from the CMDB, when known",
        "priority": "incident priority",
        "major": "declared a major incident",
        "opened_at": "the outage's start (the incident opened)",
        "resolved_at": "its end (the incident resolved)",
        "duration_minutes": "resolved_at - opened_at",
    },
}


def outage_investigation_rows(
    outages: Sequence[Row], names: Mapping[str, str], threshold: timedelta = DEFAULT_THRESHOLD
) -> Result:
    """`outages`: resolved outages with `problem_id` (None: no problem linked); those longer than
    the threshold without a problem are the rows, the longest first."""
    over = [o for o in outages if o["resolved_at"] - o["opened_at"] > threshold]
    missing = [o for o in over if o["problem_id"] is None]
    missing.sort(key=lambda o: (o["opened_at"] - o["resolved_at"], o["number"] or ""))
    rows = [
        {
            "incident_id": o["incident_id"],
            "number": o["number"],
            "service_id": o["service_id"],
            "service_name": names.get(str(o["service_id"]), ""),
            "priority": o["priority"],
            "major": bool(o["major"]),
            "opened_at": o["opened_at"],
            "resolved_at": o["resolved_at"],
            "duration_minutes": round((o["resolved_at"] - o["opened_at"]).total_seconds() / 60, 2),
        }
        for o in missing
    ]
    totals = {
        "threshold_minutes": round(threshold.total_seconds() / 60, 2),
        "outages_over_threshold": len(over),
        "investigated": len(over) - len(missing),
        "without_investigation": len(missing),
    }
    return rows, totals
