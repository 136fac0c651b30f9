"""The figures of each report, shaped from what the store selected (no I/O).

Each `*_rows` function takes the aggregates the store computed in SQL with the report's filters
(counts, sums of seconds, extremes, per group) and each `*_report` function the fact rows the
store selected; both return `(rows, totals)`: rows with exactly the definition's columns, in its
order. The rounding (2 decimals; hours, minutes; null when there is nothing to divide by) is here.

SQL groups NULL and "" apart where a report shows both as "": the `*_rows` functions fold the
groups by the report's key first, so that the figures do not depend on that.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

Row = Mapping[str, Any]
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


def _per(total: float, count: int, unit: float) -> float | None:
    """A mean of durations summed in seconds, in `unit`s (3600: hours, 60: minutes), 2 decimals."""
    return round(total / unit / count, 2) if count else None


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _key(value: Any) -> str:
    return "" if value is None else str(value)


def _fold(
    groups: Iterable[Row],
    key: Callable[[Row], tuple[str, ...]],
    sums: Sequence[str],
    *,
    least: Sequence[str] = (),
    greatest: Sequence[str] = (),
) -> dict[tuple[str, ...], dict[str, Any]]:
    """Merge the groups that share a key: sums added, extremes kept (a None extreme: none)."""
    folded: dict[tuple[str, ...], dict[str, Any]] = {}
    for g in groups:
        k = key(g)
        cell = folded.get(k)
        if cell is None:
            folded[k] = {n: g[n] for n in (*sums, *least, *greatest)}
            continue
        for n in sums:
            cell[n] += g[n]
        for n, pick in [*((n, min) for n in least), *((n, max) for n in greatest)]:
            known = [v for v in (cell[n], g[n]) if v is not None]
            cell[n] = pick(known) if known else None
    return folded


def _total(
    cells: Iterable[Row], sums: Sequence[str], *, least: Sequence[str] = (), greatest: Sequence[str] = ()
) -> dict[str, Any]:
    """Every group folded into one (zeros and Nones when there is none)."""
    empty = dict.fromkeys(sums, 0) | dict.fromkeys((*least, *greatest))
    return _fold(cells, lambda _: (), sums, least=least, greatest=greatest).get((), empty)


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


INCIDENT_SUMS = (
    "opened",
    "resolved",
    "resolve_s",
    "backlog",
    "backlog_age_s",
    "responded",
    "response_s",
    "major",
    "reassignments",
)


def _incident_figures(g: Row, now: datetime) -> dict[str, Any]:
    oldest = g["backlog_oldest_opened_at"]
    return {
        "opened": g["opened"],
        "resolved": g["resolved"],
        "backlog": g["backlog"],
        "backlog_avg_age_hours": _per(g["backlog_age_s"], g["backlog"], 3600),
        "backlog_oldest_age_hours": round(_hours(now - oldest), 2) if g["backlog"] and oldest is not None else None,
        "mtta_minutes": _per(g["response_s"], g["responded"], 60),
        "mttr_hours": _per(g["resolve_s"], g["resolved"], 3600),
        "major_incidents": g["major"],
        "reassignments": g["reassignments"],
    }


def incidents_rows(
    groups: Iterable[Row], major_numbers: Iterable[str], names: Mapping[str, str], now: datetime
) -> Result:
    """Per (service, group) sums: `opened`, `resolved` (resolved or closed, with a resolved_at) and
    `resolve_s` (their resolved - opened), `backlog` (not resolved, closed or cancelled),
    `backlog_age_s` (their now - opened) and `backlog_oldest_opened_at`, `responded` (with a first
    response) and `response_s`, `major`, `reassignments`."""
    least = ("backlog_oldest_opened_at",)
    cells = _fold(groups, lambda g: (_key(g["service_id"]), _key(g["assignment_group"])), INCIDENT_SUMS, least=least)
    rows = [
        {"service_id": s, "service_name": names.get(s, ""), "assignment_group": g} | _incident_figures(cell, now)
        for (s, g), cell in sorted(cells.items())
    ]
    totals = _incident_figures(_total(cells.values(), INCIDENT_SUMS, least=least), now)
    totals["major_incident_numbers"] = sorted(major_numbers)
    return rows, totals


REQUEST_SUMS = ("submitted", "fulfilled", "open", "rejected", "cancelled", "fulfilment_s", "measured", "met")


def _request_figures(g: Row) -> dict[str, Any]:
    longest = g["max_fulfilment_s"]
    return {
        "submitted": g["submitted"],
        "fulfilled": g["fulfilled"],
        "open": g["open"],
        "rejected": g["rejected"],
        "cancelled": g["cancelled"],
        "avg_fulfilment_hours": _per(g["fulfilment_s"], g["fulfilled"], 3600),
        "max_fulfilment_hours": round(longest / 3600, 2) if g["fulfilled"] and longest is not None else None,
        "fulfilment_compliance_pct": pct(g["met"], g["measured"]),
    }


def requests_rows(groups: Iterable[Row]) -> Result:
    """Per (service, catalogue item) sums: `submitted`, `fulfilled` (with a fulfilled_at),
    `fulfilment_s` and `max_fulfilment_s` (fulfilled - submitted), `open` (not fulfilled, closed,
    rejected or cancelled), `rejected`, `cancelled`, fulfilment targets `measured` and `met`."""
    greatest = ("max_fulfilment_s",)
    cells = _fold(groups, lambda g: (_key(g["service_id"]), _key(g["catalogue_item"])), REQUEST_SUMS, greatest=greatest)
    rows = [{"service_id": s, "catalogue_item": c} | _request_figures(cell) for (s, c), cell in sorted(cells.items())]
    return rows, _request_figures(_total(cells.values(), REQUEST_SUMS, greatest=greatest))


PROBLEM_SUMS = (
    "opened",
    "open",
    "known_errors",
    "resolved",
    "resolved_by_change",
    "from_recurrence",
    "linked_incidents",
)


def problems_rows(groups: Iterable[Row], recurring: Iterable[Row]) -> Result:
    """Per service: problem counts (PROBLEM_SUMS: `open` is not resolved or closed, `resolved`
    resolved or closed, `linked_incidents` their incident counts summed); `recurring`: per
    service, the `incidents` linked to a problem as a recurrence."""
    cells = _fold(groups, lambda g: (_key(g["service_id"]),), PROBLEM_SUMS)
    again = _fold(recurring, lambda g: (_key(g["service_id"]),), ("incidents",))
    none = dict.fromkeys(PROBLEM_SUMS, 0)
    rows = [
        {"service_id": s}
        | cells.get((s,), none)
        | {"recurring_incidents": again.get((s,), {"incidents": 0})["incidents"]}
        for (s,) in sorted(set(cells) | set(again))
    ]
    totals = _total(cells.values(), PROBLEM_SUMS) | {
        "recurring_incidents": _total(again.values(), ("incidents",))["incidents"]
    }
    return rows, totals


CHANGE_SUMS = ("changes", "implemented", "failed", "backed_out", "incidents_caused")


def _change_figures(g: Row) -> dict[str, Any]:
    return {
        "changes": g["changes"],
        "implemented": g["implemented"],
        "failed": g["failed"],
        "backed_out": g["backed_out"],
        "success_rate_pct": pct(g["implemented"], g["implemented"] + g["failed"]),
        "incidents_caused": g["incidents_caused"],
    }


def changes_rows(groups: Iterable[Row]) -> Result:
    """Per type: `changes`, `implemented` (and not failed), `failed`, `backed_out` (failed and
    backed out), `incidents_caused` (incidents linked to them as caused by the change)."""
    cells = _fold(groups, lambda g: (_key(g["type"]),), CHANGE_SUMS)
    rows = [{"type": t} | _change_figures(cell) for (t,), cell in sorted(cells.items())]
    totals = _change_figures(_total(cells.values(), CHANGE_SUMS))
    emergency = cells.get(("emergency",), {"changes": 0})["changes"]
    totals["emergency_changes"] = emergency
    totals["emergency_ratio_pct"] = pct(emergency, totals["changes"])
    return rows, totals


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


CMDB_SUMS = ("cis", "critical", "unauthorised_changes")


def cmdb_rows(groups: Iterable[Row], findings: Mapping[str, int]) -> Result:
    """Per (type, status): `cis`, `critical` (criticality 1), `unauthorised_changes` detected on
    them; `findings`: the period's findings by kind (on any CI)."""
    cells = _fold(groups, lambda g: (_key(g["type"]), _key(g["status"])), CMDB_SUMS)
    rows: list[dict[str, Any]] = [
        {
            "type": t,
            "status": s,
            "cis": c["cis"],
            "critical": c["critical"],
            "unauthorised_changes": c["unauthorised_changes"],
        }
        for (t, s), c in sorted(cells.items())
    ]
    totals: dict[str, Any] = {
        "cis": sum(r["cis"] for r in rows),
        "critical": sum(r["critical"] for r in rows),
        "unauthorised_changes": findings.get("unauthorised_change", 0),
        "rejected_cmdb_updates": findings.get("cmdb_update_rejected", 0),
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


WORKLOAD_FIGURES = (
    "incidents_opened",
    "incidents_resolved",
    "requests_submitted",
    "requests_fulfilled",
    "reassignments",
    "escalations",
)


def workload_rows(incidents: Iterable[Row], requests: Iterable[Row]) -> Result:
    """Per (period, group): incidents `opened`, `resolved` (resolved or closed now) with their
    `reassignments` and `escalations`; requests `submitted` and `fulfilled`."""
    cells: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(WORKLOAD_FIGURES, 0))
    for g in incidents:
        cell = cells[(g["period"], _key(g["assignment_group"]))]
        cell["incidents_opened"] += g["opened"]
        cell["incidents_resolved"] += g["resolved"]
        cell["reassignments"] += g["reassignments"]
        cell["escalations"] += g["escalations"]
    for g in requests:
        cell = cells[(g["period"], _key(g["assignment_group"]))]
        cell["requests_submitted"] += g["submitted"]
        cell["requests_fulfilled"] += g["fulfilled"]
    rows = [{"period": p, "assignment_group": g} | figures for (p, g), figures in sorted(cells.items())]
    totals: dict[str, Any] = defaultdict(int)
    for r in rows:
        for k in WORKLOAD_FIGURES:
            totals[k] += r[k]
    return rows, dict(totals)


HOTSPOT_ROWS = 50


def hotspots_rows(
    cis: Iterable[Row], totals: Mapping[str, int], names: Mapping[str, str], *, limit: int = HOTSPOT_ROWS
) -> Result:
    """The CIs with the most incidents, most first (ties by name, else id); per CI: `incidents`,
    `open` (not resolved, closed or cancelled), `major`, `problems` (distinct), `recurring`
    (linked to a problem as a recurrence), `last_opened_at` and the `service_id` of that latest
    incident. `totals`: `cis`, `incidents_on_cis`, `incidents_without_ci`, `cis_with_recurrence`."""
    rows: list[dict[str, Any]] = []
    for c in cis:
        ci, service = _key(c["ci_id"]), _key(c["service_id"])
        rows.append(
            {
                "ci_id": ci,
                "ci_name": names.get(ci, ""),
                "service_id": service,
                "service_name": names.get(service, ""),
                "incidents": c["incidents"],
                "open": c["open"],
                "major": c["major"],
                "problems": c["problems"],
                "recurring": c["recurring"],
                "last_opened_at": c["last_opened_at"].isoformat(),
            }
        )
    rows.sort(key=lambda r: (-r["incidents"], r["ci_name"] or r["ci_id"]))
    return rows[:limit], dict(totals)
