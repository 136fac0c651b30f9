"""The significant-events report (ISO/IEC 20000-1 6.2 b), from fact rows (no I/O).

One row per event, with a `kind`: a major incident opened in the period, a deployment to
production finished in it, an emergency change created in it. The selections match the
`incidents` report's major incidents, the `dora` report's deployments and the `changes` report's
emergency changes for the same period, so the figures reconcile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

Row = Mapping[str, Any]
Result = tuple[list[dict[str, Any]], dict[str, Any]]

FAILED_DEPLOYMENT = frozenset({"failed", "rolled_back"})
RESOLVED_INCIDENT = frozenset({"resolved", "closed"})


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 3600, 2)


def _id(value: Any) -> str:
    return "" if value is None else str(value)


def significant_events_report(
    major_incidents: Sequence[Row],
    deployments: Sequence[Row],
    emergency_changes: Sequence[Row],
    change_services: Mapping[str, set[str]],
    change_numbers: Mapping[str, str],
    names: Mapping[str, str],
    invocations: Sequence[dict[str, Any]] = (),
) -> Result:
    """`invocations`: the continuity invocations' rows, as `domain.continuity.invocation_rows` makes them."""
    rows: list[dict[str, Any]] = list(invocations)
    for i in major_incidents:
        closed = i["closed_at"] is not None or i["status"] == "closed"
        rows.append(
            {
                "kind": "major_incident",
                "reference": i["number"],
                "service_id": _id(i["service_id"]),
                "service_name": names.get(_id(i["service_id"])),
                "started_at": i["opened_at"],
                "ended_at": i["resolved_at"],
                "duration_hours": _hours(i["opened_at"], i["resolved_at"]),
                "status": i["status"],
                "change_number": change_numbers.get(_id(i["caused_by_change_id"])),
                "review_status": "recorded" if closed else "unknown",
            }
        )
    for d in deployments:
        rows.append(
            {
                "kind": "deployment",
                "reference": _id(d["deployment_id"]),
                "service_id": _id(d["service_id"]),
                "service_name": names.get(_id(d["service_id"])) or d["service"],
                "started_at": d["started_at"],
                "ended_at": d["finished_at"],
                "duration_hours": _hours(d["started_at"], d["finished_at"]),
                "status": d["result"],
                "change_number": change_numbers.get(_id(d["change_id"])),
                "review_status": None,
            }
        )
    for c in emergency_changes:
        services = sorted(change_services.get(_id(c["change_id"]), set()))
        ended = max((t for t in (c["implemented_at"], c["failed_at"]) if t is not None), default=None)
        rows.append(
            {
                "kind": "emergency_change",
                "reference": c["number"],
                "service_id": ", ".join(services),
                "service_name": ", ".join(names.get(s, s) for s in services) or None,
                "started_at": c["created_at"],
                "ended_at": ended,
                "duration_hours": _hours(c["created_at"], ended),
                "status": c["status"],
                "change_number": None,
                "review_status": None,
            }
        )
    rows.sort(key=lambda r: (r["started_at"] or r["ended_at"], r["kind"], r["reference"] or ""))
    totals = {
        "major_incidents": len(major_incidents),
        "major_incidents_unresolved": sum(1 for i in major_incidents if i["status"] not in RESOLVED_INCIDENT),
        "deployments": len(deployments),
        "failed_deployments": sum(1 for d in deployments if d["result"] in FAILED_DEPLOYMENT),
        "emergency_changes": len(emergency_changes),
        "failed_emergency_changes": sum(1 for c in emergency_changes if c["failed_at"] is not None),
        "continuity_invocations": len(invocations),
    }
    return rows, totals
