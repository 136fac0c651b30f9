"""The figures of each report, computed from fact rows (no I/O).

Each `*_report` function takes the fact rows the store selected with the report's filters and
returns `(rows, totals)`: rows with exactly the definition's columns, in its order.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

Row = Mapping[str, Any]
Granularity = Literal["day", "week", "month"]
Result = tuple[list[dict[str, Any]], dict[str, Any]]

CLOSED_INCIDENT = frozenset({"resolved", "closed", "cancelled"})
RESOLVED_INCIDENT = frozenset({"resolved", "closed"})
FINISHED_REQUEST = frozenset({"fulfilled", "closed", "rejected", "cancelled"})
FINISHED_PROBLEM = frozenset({"resolved", "closed"})
PRODUCTION = frozenset({"production", "prod"})
FINISHED_DEPLOYMENT = frozenset({"succeeded", "failed", "rolled_back"})
CONTRACT_IN_FORCE = frozenset({"active", "expiring"})


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _mean(values: Sequence[float], scale: float = 1.0) -> float | None:
    return round(statistics.fmean(values) / scale, 2) if values else None


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def period_start(moment: datetime, granularity: Granularity) -> str:
    """The UTC day, ISO week (Monday) or month a moment falls in, as YYYY-MM-DD."""
    day = moment.date() if moment.utcoffset() in (None, timedelta(0)) else moment.astimezone().date()
    if granularity == "week":
        day = day - timedelta(days=day.weekday())
    elif granularity == "month":
        day = date(day.year, day.month, 1)
    return day.isoformat()


def _key(value: Any) -> str:
    return "" if value is None else str(value)


def service_levels_rows(groups: Iterable[Row], names: Mapping[str, str]) -> Result:
    """Fold the store's (period, service_id, priority) aggregates into the report."""
    rows: list[dict[str, Any]] = []
    totals = dict.fromkeys(
        ("incidents", "response_measured", "response_met", "resolution_measured", "resolution_met"), 0
    )
    for g in sorted(groups, key=lambda g: (g["period"], _key(g["service_id"]), g["priority"])):
        for name in totals:
            totals[name] += int(g[name])
        rows.append(
            {
                "period": g["period"],
                "service_id": _key(g["service_id"]),
                "service_name": names.get(_key(g["service_id"]), ""),
                "priority": g["priority"],
                "incidents": g["incidents"],
                "response_measured": g["response_measured"],
                "response_met": g["response_met"],
                "response_compliance_pct": pct(g["response_met"], g["response_measured"]),
                "resolution_measured": g["resolution_measured"],
                "resolution_met": g["resolution_met"],
                "resolution_compliance_pct": pct(g["resolution_met"], g["resolution_measured"]),
                "breaches": g["response_measured"] - g["response_met"] + g["resolution_measured"] - g["resolution_met"],
            }
        )
    summary: dict[str, Any] = dict(totals)
    summary["response_compliance_pct"] = pct(totals["response_met"], totals["response_measured"])
    summary["resolution_compliance_pct"] = pct(totals["resolution_met"], totals["resolution_measured"])
    summary["breaches"] = (
        totals["response_measured"] - totals["response_met"] + totals["resolution_measured"] - totals["resolution_met"]
    )
    return rows, summary


def _incident_figures(incidents: Sequence[Row], now: datetime) -> dict[str, Any]:
    resolved = [i for i in incidents if i["status"] in RESOLVED_INCIDENT and i["resolved_at"] is not None]
    backlog = [i for i in incidents if i["status"] not in CLOSED_INCIDENT]
    ages = [_hours(now - i["opened_at"]) for i in backlog]
    responses = [
        (i["first_response_at"] - i["opened_at"]).total_seconds() / 60
        for i in incidents
        if i["first_response_at"] is not None
    ]
    return {
        "opened": len(incidents),
        "resolved": len(resolved),
        "backlog": len(backlog),
        "backlog_avg_age_hours": _mean(ages),
        "backlog_oldest_age_hours": round(max(ages), 2) if ages else None,
        "mtta_minutes": _mean(responses),
        "mttr_hours": _mean([_hours(i["resolved_at"] - i["opened_at"]) for i in resolved]),
        "major_incidents": sum(1 for i in incidents if i["major"]),
        "reassignments": sum(int(i["reassignments"]) for i in incidents),
    }


def incidents_report(incidents: Sequence[Row], names: Mapping[str, str], now: datetime) -> Result:
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for i in incidents:
        groups[(_key(i["service_id"]), _key(i["assignment_group"]))].append(i)
    rows = [
        {"service_id": s, "service_name": names.get(s, ""), "assignment_group": g} | _incident_figures(members, now)
        for (s, g), members in sorted(groups.items())
    ]
    totals = _incident_figures(incidents, now)
    totals["major_incident_numbers"] = sorted(i["number"] for i in incidents if i["major"])
    return rows, totals


def sla_verdict(met: bool | None, breached: bool | None) -> bool | None:
    """A target met or missed: the clock's reported result, else missed if a breach was notified,
    else unknown (see store.sla_verdict, the same rule in SQL)."""
    if met is not None:
        return met
    return False if breached else None


def _request_figures(requests: Sequence[Row]) -> dict[str, Any]:
    fulfilled = [r for r in requests if r["fulfilled_at"] is not None]
    times = [_hours(r["fulfilled_at"] - r["submitted_at"]) for r in fulfilled]
    verdicts = [sla_verdict(r["fulfilment_met"], r["fulfilment_breached"]) for r in requests]
    measured = [v for v in verdicts if v is not None]
    return {
        "submitted": len(requests),
        "fulfilled": len(fulfilled),
        "open": sum(1 for r in requests if r["status"] not in FINISHED_REQUEST),
        "rejected": sum(1 for r in requests if r["status"] == "rejected"),
        "cancelled": sum(1 for r in requests if r["status"] == "cancelled"),
        "avg_fulfilment_hours": _mean(times),
        "max_fulfilment_hours": round(max(times), 2) if times else None,
        "fulfilment_compliance_pct": pct(sum(1 for m in measured if m), len(measured)),
    }


def requests_report(requests: Sequence[Row]) -> Result:
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in requests:
        groups[(_key(r["service_id"]), _key(r["catalogue_item"]))].append(r)
    rows = [
        {"service_id": s, "catalogue_item": c} | _request_figures(members) for (s, c), members in sorted(groups.items())
    ]
    return rows, _request_figures(requests)


def _problem_figures(problems: Sequence[Row], recurring: int) -> dict[str, Any]:
    return {
        "opened": len(problems),
        "open": sum(1 for p in problems if p["status"] not in FINISHED_PROBLEM),
        "known_errors": sum(1 for p in problems if p["known_error_at"] is not None),
        "resolved": sum(1 for p in problems if p["status"] in FINISHED_PROBLEM),
        "resolved_by_change": sum(
            1 for p in problems if p["status"] in FINISHED_PROBLEM and p["change_id"] is not None
        ),
        "from_recurrence": sum(1 for p in problems if p["origin"] == "recurrence"),
        "linked_incidents": sum(int(p["incident_count"] or 0) for p in problems),
        "recurring_incidents": recurring,
    }


def problems_report(problems: Sequence[Row], recurring_incidents: Sequence[Row]) -> Result:
    groups: dict[str, list[Row]] = defaultdict(list)
    recurring: dict[str, int] = defaultdict(int)
    for p in problems:
        groups[_key(p["service_id"])].append(p)
    for i in recurring_incidents:
        recurring[_key(i["service_id"])] += 1
    services = sorted(set(groups) | set(recurring))
    rows = [{"service_id": s} | _problem_figures(groups.get(s, []), recurring.get(s, 0)) for s in services]
    return rows, _problem_figures(problems, len(recurring_incidents))


def _change_figures(changes: Sequence[Row], caused: Mapping[str, int]) -> dict[str, Any]:
    failed = sum(1 for c in changes if c["failed_at"] is not None)
    implemented = sum(1 for c in changes if c["implemented_at"] is not None and c["failed_at"] is None)
    return {
        "changes": len(changes),
        "implemented": implemented,
        "failed": failed,
        "backed_out": sum(1 for c in changes if c["failed_at"] is not None and c["backed_out"]),
        "success_rate_pct": pct(implemented, implemented + failed),
        "incidents_caused": sum(caused.get(str(c["change_id"]), 0) for c in changes),
    }


def changes_report(changes: Sequence[Row], incidents_caused: Mapping[str, int]) -> Result:
    groups: dict[str, list[Row]] = defaultdict(list)
    for c in changes:
        groups[_key(c["type"])].append(c)
    rows = [{"type": t} | _change_figures(members, incidents_caused) for t, members in sorted(groups.items())]
    totals = _change_figures(changes, incidents_caused)
    emergency = len(groups.get("emergency", []))
    totals["emergency_changes"] = emergency
    totals["emergency_ratio_pct"] = pct(emergency, len(changes))
    return rows, totals


def is_outage(incident: Row) -> bool:
    """The availability definition of an outage: a priority 1 or major incident on a service."""
    return incident["service_id"] is not None and (incident["priority"] == 1 or bool(incident["major"]))


def dora_report(
    window: Window,
    deployments: Sequence[Row],
    changes: Sequence[Row],
    change_services: Mapping[str, set[str]],
    changes_causing_incidents: set[str],
    outages: Sequence[Row],
    names: Mapping[str, str],
) -> Result:
    per_service: dict[str, dict[str, list[Any]]] = defaultdict(lambda: {"deployments": [], "lead": [], "restore": []})
    for d in deployments:
        if (
            d["service_id"] is not None
            and d["environment"] in PRODUCTION
            and d["result"] in FINISHED_DEPLOYMENT
            and d["finished_at"] is not None
            and window.start <= d["finished_at"] < window.end
        ):
            per_service[str(d["service_id"])]["deployments"].append(d)
    for c in changes:
        if c["implemented_at"] is None or c["created_at"] is None or c["failed_at"] is not None:
            continue
        if not window.start <= c["implemented_at"] < window.end:
            continue
        for s in change_services.get(str(c["change_id"]), ()):
            per_service[s]["lead"].append(_hours(c["implemented_at"] - c["created_at"]))
    for i in outages:
        if i["resolved_at"] is not None and window.start <= i["resolved_at"] < window.end:
            per_service[str(i["service_id"])]["restore"].append(_hours(i["resolved_at"] - i["opened_at"]))

    def failed(d: Row) -> bool:
        return d["result"] in ("failed", "rolled_back") or (
            d["change_id"] is not None and str(d["change_id"]) in changes_causing_incidents
        )

    rows: list[dict[str, Any]] = []
    all_deploys: list[Row] = []
    for s, found in sorted(per_service.items()):
        deploys = found["deployments"]
        all_deploys.extend(deploys)
        succeeded = sum(1 for d in deploys if d["result"] == "succeeded")
        rows.append(
            {
                "service_id": s,
                "service_name": names.get(s, ""),
                "deployments": len(deploys),
                "deployment_frequency_per_day": round(succeeded / window.days, 3) if window.days else None,
                "lead_time_hours": _median(found["lead"]),
                "change_failure_rate_pct": pct(sum(1 for d in deploys if failed(d)), len(deploys)),
                "restores": len(found["restore"]),
                "time_to_restore_hours": _median(found["restore"]),
            }
        )
    succeeded_all = sum(1 for d in all_deploys if d["result"] == "succeeded")
    totals = {
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "deployments": len(all_deploys),
        "deployment_frequency_per_day": round(succeeded_all / window.days, 3) if window.days else None,
        "lead_time_hours": _median([h for f in per_service.values() for h in f["lead"]]),
        "change_failure_rate_pct": pct(sum(1 for d in all_deploys if failed(d)), len(all_deploys)),
        "time_to_restore_hours": _median([h for f in per_service.values() for h in f["restore"]]),
    }
    return rows, totals


def downtime(intervals: Iterable[tuple[datetime, datetime | None]], window: Window) -> timedelta:
    """The union of [start, end) intervals clipped to the window (an open one runs to the end)."""
    clipped = sorted(
        (max(start, window.start), min(end or window.end, window.end))
        for start, end in intervals
        if start < window.end and (end is None or end > window.start)
    )
    total = timedelta(0)
    current: tuple[datetime, datetime] | None = None
    for start, end in clipped:
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += current[1] - current[0]
    return total


def availability_report(
    window: Window,
    outages: Sequence[Row],
    services: Iterable[str],
    names: Mapping[str, str],
    target_for: Callable[[str], float],
) -> Result:
    by_service: dict[str, list[Row]] = defaultdict(list)
    for i in outages:
        if i["opened_at"] < window.end and (i["resolved_at"] is None or i["resolved_at"] > window.start):
            by_service[str(i["service_id"])].append(i)
    rows: list[dict[str, Any]] = []
    window_s = (window.end - window.start).total_seconds()
    for s in sorted(set(services) | set(by_service)):
        found = by_service.get(s, [])
        down = downtime([(i["opened_at"], i["resolved_at"]) for i in found], window)
        availability = round(100.0 * (window_s - down.total_seconds()) / window_s, 3) if window_s else None
        target = target_for(s)
        rows.append(
            {
                "service_id": s,
                "service_name": names.get(s, ""),
                "window_hours": round(window.hours, 2),
                "outages": len(found),
                "downtime_minutes": round(down.total_seconds() / 60, 2),
                "availability_pct": availability,
                "target_pct": target,
                "target_met": availability is not None and availability >= target,
            }
        )
    totals = {
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "services": len(rows),
        "services_meeting_target": sum(1 for r in rows if r["target_met"]),
        "outages": sum(r["outages"] for r in rows),
        "downtime_minutes": round(sum(r["downtime_minutes"] for r in rows), 2),
    }
    return rows, totals


def cmdb_report(cis: Sequence[Row], findings: Sequence[Row]) -> Result:
    by_ci: dict[str, int] = defaultdict(int)
    for f in findings:
        if f["kind"] == "unauthorised_change" and f["ci_id"] is not None:
            by_ci[str(f["ci_id"])] += 1
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for c in cis:
        groups[(_key(c["type"]), _key(c["status"]))].append(c)
    rows: list[dict[str, Any]] = [
        {
            "type": t,
            "status": s,
            "cis": len(members),
            "critical": sum(1 for c in members if c["criticality"] == 1),
            "unauthorised_changes": sum(by_ci.get(str(c["ci_id"]), 0) for c in members),
        }
        for (t, s), members in sorted(groups.items())
    ]
    totals: dict[str, Any] = {
        "cis": len(cis),
        "critical": sum(r["critical"] for r in rows),
        "unauthorised_changes": sum(1 for f in findings if f["kind"] == "unauthorised_change"),
        "rejected_cmdb_updates": sum(1 for f in findings if f["kind"] == "cmdb_update_rejected"),
    }
    return rows, totals


BREACH_METRICS = ("response", "resolution", "availability", "change_success")

_SUPPLIER_COUNTS = (
    "active_contracts",
    "incidents",
    "incidents_resolved",
    "target_breaches",
    *(f"{m}_breaches" for m in BREACH_METRICS),
    "open_disputes",
)


def suppliers_rows(groups: Iterable[Row]) -> Result:
    """Fold the store's per-supplier counts (`store.supplier_scorecards`) into the report."""
    rows: list[dict[str, Any]] = []
    for g in sorted(groups, key=lambda g: str(g["supplier_id"])):
        counts = {name: int(g[name]) for name in _SUPPLIER_COUNTS}
        rows.append(
            {
                "supplier_id": str(g["supplier_id"]),
                "supplier_name": g["supplier_name"] or "",
                "status": g["status"] or "",
                "active_contracts": counts["active_contracts"],
                "incidents": counts["incidents"],
                "incidents_resolved": counts["incidents_resolved"],
                "resolution_compliance_pct": pct(int(g["resolution_met"]), int(g["resolution_measured"])),
                "target_breaches": counts["target_breaches"],
                **{f"{m}_breaches": counts[f"{m}_breaches"] for m in BREACH_METRICS},
                "open_disputes": counts["open_disputes"],
            }
        )
    totals = {
        "suppliers": len(rows),
        "incidents": sum(r["incidents"] for r in rows),
        "target_breaches": sum(r["target_breaches"] for r in rows),
        "open_disputes": sum(r["open_disputes"] for r in rows),
    }
    return rows, totals


def workload_report(incidents: Sequence[Row], requests: Sequence[Row], granularity: Granularity) -> Result:
    cells: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(
            (
                "incidents_opened",
                "incidents_resolved",
                "requests_submitted",
                "requests_fulfilled",
                "reassignments",
                "escalations",
            ),
            0,
        )
    )
    for i in incidents:
        cell = cells[(period_start(i["opened_at"], granularity), _key(i["assignment_group"]))]
        cell["incidents_opened"] += 1
        cell["incidents_resolved"] += int(i["status"] in RESOLVED_INCIDENT)
        cell["reassignments"] += int(i["reassignments"])
        cell["escalations"] += int(i["escalations"])
    for r in requests:
        cell = cells[(period_start(r["submitted_at"], granularity), _key(r["assignment_group"]))]
        cell["requests_submitted"] += 1
        cell["requests_fulfilled"] += int(r["fulfilled_at"] is not None)
    rows = [{"period": p, "assignment_group": g} | figures for (p, g), figures in sorted(cells.items())]
    totals: dict[str, Any] = defaultdict(int)
    for r in rows:
        for k, v in r.items():
            if isinstance(v, int):
                totals[k] += v
    return rows, dict(totals)


HOTSPOT_ROWS = 50


def hotspots_report(incidents: Sequence[Row], names: Mapping[str, str], *, limit: int = HOTSPOT_ROWS) -> Result:
    """Incidents per CI, most first (ties by name); incidents without a CI are left out."""
    by_ci: dict[str, list[Row]] = defaultdict(list)
    for i in incidents:
        if i["ci_id"] is not None:
            by_ci[str(i["ci_id"])].append(i)
    rows: list[dict[str, Any]] = []
    for ci, members in by_ci.items():
        latest = max(members, key=lambda i: i["opened_at"])
        service = _key(latest["service_id"])
        rows.append(
            {
                "ci_id": ci,
                "ci_name": names.get(ci, ""),
                "service_id": service,
                "service_name": names.get(service, ""),
                "incidents": len(members),
                "open": sum(1 for i in members if i["status"] not in CLOSED_INCIDENT),
                "major": sum(1 for i in members if i["major"]),
                "problems": len({str(i["problem_id"]) for i in members if i["problem_id"] is not None}),
                "recurring": sum(1 for i in members if i["problem_link_reason"] == "recurrence"),
                "last_opened_at": latest["opened_at"].isoformat(),
            }
        )
    rows.sort(key=lambda r: (-r["incidents"], r["ci_name"] or r["ci_id"]))
    totals = {
        "cis": len(rows),
        "incidents_on_cis": sum(r["incidents"] for r in rows),
        "incidents_without_ci": sum(1 for i in incidents if i["ci_id"] is None),
        "cis_with_recurrence": sum(1 for r in rows if r["recurring"] or r["incidents"] >= 3),
    }
    return rows[:limit], totals
