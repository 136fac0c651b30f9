"""The reports as they were computed before they moved into SQL: in Python, from every fact row
the filters select (the former `domain.figures` functions and store queries, kept here as the
reference the SQL aggregates must equal)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from services.reporting.domain.figures import (
    CLOSED_INCIDENT,
    FINISHED_PROBLEM,
    FINISHED_REQUEST,
    RESOLVED_INCIDENT,
    Result,
    Row,
    pct,
)
from services.reporting.domain.figures import in_hours as _hours
from services.reporting.domain.figures import text_of as _key
from services.reporting.domain.report_filters import ReportFilters

Granularity = Literal["day", "week", "month"]


def _mean(values: Sequence[float], scale: float = 1.0) -> float | None:
    return round(statistics.fmean(values) / scale, 2) if values else None


def period_start(moment: datetime, granularity: Granularity) -> str:
    """The UTC day, ISO week (Monday) or month a moment falls in, as YYYY-MM-DD."""
    day = moment.date() if moment.utcoffset() in (None, timedelta(0)) else moment.astimezone().date()
    if granularity == "week":
        day = day - timedelta(days=day.weekday())
    elif granularity == "month":
        day = date(day.year, day.month, 1)
    return day.isoformat()


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


def _request_figures(requests: Sequence[Row]) -> dict[str, Any]:
    fulfilled = [r for r in requests if r["fulfilled_at"] is not None]
    times = [_hours(r["fulfilled_at"] - r["submitted_at"]) for r in fulfilled]
    # Met or missed: the reported result, else missed when a breach was notified (store.sla_verdict).
    verdicts = [
        r["fulfilment_met"] if r["fulfilment_met"] is not None else (False if r["fulfilment_breached"] else None)
        for r in requests
    ]
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


# The selections of the former store (the same conditions, in Python)


def _in_period(value: datetime | None, filters: ReportFilters) -> bool:
    return (
        value is not None
        and (filters.start is None or value >= filters.start)
        and (filters.end is None or value < filters.end)
    )


def incidents(rows: Sequence[Row], filters: ReportFilters) -> list[Row]:
    return [
        i
        for i in rows
        if _in_period(i["opened_at"], filters)
        and all(
            wanted is None or i[column] == wanted
            for column, wanted in (
                ("service_id", filters.service_id),
                ("assignment_group", filters.group),
                ("priority", filters.priority),
                ("supplier_id", filters.supplier_id),
            )
        )
    ]


def requests(rows: Sequence[Row], filters: ReportFilters) -> list[Row]:
    return [
        r
        for r in rows
        if _in_period(r["submitted_at"], filters)
        and all(
            wanted is None or r[column] == wanted
            for column, wanted in (
                ("service_id", filters.service_id),
                ("assignment_group", filters.group),
                ("priority", filters.priority),
            )
        )
    ]


def problems(rows: Sequence[Row], filters: ReportFilters) -> list[Row]:
    return [
        p
        for p in rows
        if _in_period(p["opened_at"], filters) and (filters.service_id is None or p["service_id"] == filters.service_id)
    ]


def changes(rows: Sequence[Row], services: Sequence[Row], filters: ReportFilters) -> list[Row]:
    on_service = {s["change_id"] for s in services if s["service_id"] == filters.service_id}
    return [
        c
        for c in rows
        if (filters.start is None or (c["created_at"] is not None and c["created_at"] >= filters.start))
        and (filters.end is None or (c["created_at"] is not None and c["created_at"] < filters.end))
        and (filters.service_id is None or c["change_id"] in on_service)
    ]


def cis(rows: Sequence[Row], filters: ReportFilters) -> list[Row]:
    return [
        c
        for c in rows
        if c["type"] is not None
        and (filters.service_id is None or c["service_id"] == filters.service_id)
        and (filters.supplier_id is None or c["supplier_id"] == filters.supplier_id)
    ]


def findings(rows: Sequence[Row], filters: ReportFilters) -> list[Row]:
    return [
        f
        for f in rows
        if (filters.start is None or (f["detected_at"] is not None and f["detected_at"] >= filters.start))
        and (filters.end is None or (f["detected_at"] is not None and f["detected_at"] < filters.end))
    ]


def report(name: str, facts: Mapping[str, Sequence[Row]], filters: ReportFilters, now: datetime) -> Result:
    """A report as the former code produced it from every fact row."""
    names = {str(c["ci_id"]): str(c["name"]) for c in facts["ci_facts"] if c["name"] is not None}
    found = incidents(facts["incident_facts"], filters)
    if name == "incidents":
        return incidents_report(found, names, now)
    if name == "hotspots":
        return hotspots_report(found, names)
    if name == "workload":
        return workload_report(found, requests(facts["request_facts"], filters), filters.period or "day")
    if name == "requests":
        return requests_report(requests(facts["request_facts"], filters))
    if name == "problems":
        recurring = [i for i in found if i["problem_link_reason"] == "recurrence"]
        return problems_report(problems(facts["problem_facts"], filters), recurring)
    if name == "changes":
        caused: dict[str, int] = defaultdict(int)
        for x in facts["change_incident_facts"]:
            caused[str(x["change_id"])] += 1
        return changes_report(changes(facts["change_facts"], facts["change_service_facts"], filters), caused)
    if name == "cmdb":
        return cmdb_report(cis(facts["ci_facts"], filters), findings(facts["cmdb_finding_facts"], filters))
    raise ValueError(name)
