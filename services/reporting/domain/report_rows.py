"""The rows of the reports the store aggregates in SQL, folded and rounded (no I/O).

Each `*_rows` function takes the aggregates the store computed with the report's filters (counts,
sums of seconds, extremes, per group) and returns `(rows, totals)`: rows with exactly the
definition's columns, in its order. SQL groups NULL and "" apart where a report shows both as "":
the groups are folded by the report's key first, so that the figures do not depend on that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from services.reporting.domain.figures import Result, Row, fold, fold_all, in_hours, mean_in, pct, text_of


def service_levels_rows(groups: Iterable[Row], names: Mapping[str, str]) -> Result:
    """Fold the store's (period, service_id, priority) aggregates into the report."""
    rows: list[dict[str, Any]] = []
    totals = dict.fromkeys(
        ("incidents", "response_measured", "response_met", "resolution_measured", "resolution_met"), 0
    )
    for g in sorted(groups, key=lambda g: (g["period"], text_of(g["service_id"]), g["priority"])):
        for name in totals:
            totals[name] += int(g[name])
        rows.append(
            {
                "period": g["period"],
                "service_id": text_of(g["service_id"]),
                "service_name": names.get(text_of(g["service_id"]), ""),
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
        "backlog_avg_age_hours": mean_in(g["backlog_age_s"], g["backlog"], 3600),
        "backlog_oldest_age_hours": round(in_hours(now - oldest), 2) if g["backlog"] and oldest is not None else None,
        "mtta_minutes": mean_in(g["response_s"], g["responded"], 60),
        "mttr_hours": mean_in(g["resolve_s"], g["resolved"], 3600),
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
    cells = fold(
        groups, lambda g: (text_of(g["service_id"]), text_of(g["assignment_group"])), INCIDENT_SUMS, least=least
    )
    rows = [
        {"service_id": s, "service_name": names.get(s, ""), "assignment_group": g} | _incident_figures(cell, now)
        for (s, g), cell in sorted(cells.items())
    ]
    totals = _incident_figures(fold_all(cells.values(), INCIDENT_SUMS, least=least), now)
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
        "avg_fulfilment_hours": mean_in(g["fulfilment_s"], g["fulfilled"], 3600),
        "max_fulfilment_hours": round(longest / 3600, 2) if g["fulfilled"] and longest is not None else None,
        "fulfilment_compliance_pct": pct(g["met"], g["measured"]),
    }


def requests_rows(groups: Iterable[Row]) -> Result:
    """Per (service, catalogue item) sums: `submitted`, `fulfilled` (with a fulfilled_at),
    `fulfilment_s` and `max_fulfilment_s` (fulfilled - submitted), `open` (not fulfilled, closed,
    rejected or cancelled), `rejected`, `cancelled`, fulfilment targets `measured` and `met`."""
    greatest = ("max_fulfilment_s",)
    cells = fold(
        groups, lambda g: (text_of(g["service_id"]), text_of(g["catalogue_item"])), REQUEST_SUMS, greatest=greatest
    )
    rows = [{"service_id": s, "catalogue_item": c} | _request_figures(cell) for (s, c), cell in sorted(cells.items())]
    return rows, _request_figures(fold_all(cells.values(), REQUEST_SUMS, greatest=greatest))


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
    cells = fold(groups, lambda g: (text_of(g["service_id"]),), PROBLEM_SUMS)
    again = fold(recurring, lambda g: (text_of(g["service_id"]),), ("incidents",))
    none = dict.fromkeys(PROBLEM_SUMS, 0)
    rows = [
        {"service_id": s}
        | cells.get((s,), none)
        | {"recurring_incidents": again.get((s,), {"incidents": 0})["incidents"]}
        for (s,) in sorted(set(cells) | set(again))
    ]
    totals = fold_all(cells.values(), PROBLEM_SUMS) | {
        "recurring_incidents": fold_all(again.values(), ("incidents",))["incidents"]
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
    cells = fold(groups, lambda g: (text_of(g["type"]),), CHANGE_SUMS)
    rows = [{"type": t} | _change_figures(cell) for (t,), cell in sorted(cells.items())]
    totals = _change_figures(fold_all(cells.values(), CHANGE_SUMS))
    emergency = cells.get(("emergency",), {"changes": 0})["changes"]
    totals["emergency_changes"] = emergency
    totals["emergency_ratio_pct"] = pct(emergency, totals["changes"])
    return rows, totals


CMDB_SUMS = ("cis", "critical", "unauthorised_changes")


def cmdb_rows(groups: Iterable[Row], findings: Mapping[str, int]) -> Result:
    """Per (type, status): `cis`, `critical` (criticality 1), `unauthorised_changes` detected on
    them; `findings`: the period's findings by kind (on any CI)."""
    cells = fold(groups, lambda g: (text_of(g["type"]), text_of(g["status"])), CMDB_SUMS)
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
        cell = cells[(g["period"], text_of(g["assignment_group"]))]
        cell["incidents_opened"] += g["opened"]
        cell["incidents_resolved"] += g["resolved"]
        cell["reassignments"] += g["reassignments"]
        cell["escalations"] += g["escalations"]
    for g in requests:
        cell = cells[(g["period"], text_of(g["assignment_group"]))]
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
        ci, service = text_of(c["ci_id"]), text_of(c["service_id"])
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


_LEVEL_RANK = {"critical": 0, "warning": 1, "ok": 2}


def _runway_days(level: str, runway_s: float | None) -> float | None:
    """0 at critical; at warning, the runway its last warning breach forecast; else none."""
    if level == "critical":
        return 0.0
    if level == "warning" and runway_s is not None:
        return round(runway_s / 86400, 2)
    return None


def capacity_rows(facts: Iterable[Row], names: Mapping[str, str], incidents_in_period: int) -> Result:
    """One row per CI and metric that crossed a threshold: critical first, then warning by the
    shortest runway, then the rest; totals count the pairs at each level."""
    rows: list[dict[str, Any]] = []
    for f in facts:
        critical, value, runway = f["critical"], f["value"], f["runway_to_critical_s"]
        level = f["level"] or "ok"
        rows.append(
            {
                "ci_id": str(f["ci_id"]),
                "ci_name": names.get(str(f["ci_id"])),
                "service_id": None if f["service_id"] is None else str(f["service_id"]),
                "metric": f["metric"],
                "unit": f["unit"],
                "level": level,
                "value": value,
                "warning": f["warning"],
                "critical": critical,
                "utilisation_pct": None if not critical or value is None else round(value / critical * 100, 1),
                "runway_days": _runway_days(level, runway),
                "breaches": f["breaches"],
                "critical_breaches": f["critical_breaches"],
                "last_breached_at": f["last_breached_at"],
                "performance_incidents": f["performance_incidents"],
            }
        )
    rows.sort(
        key=lambda r: (
            _LEVEL_RANK.get(r["level"], 3),
            r["runway_days"] if r["runway_days"] is not None else float("inf"),
            r["ci_id"],
            r["metric"],
        )
    )
    totals: dict[str, Any] = {
        "critical": sum(1 for r in rows if r["level"] == "critical"),
        "warning": sum(1 for r in rows if r["level"] == "warning"),
        "performance_incidents": incidents_in_period,
    }
    return rows, totals
