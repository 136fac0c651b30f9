"""The figures of the reports computed in Python, and the arithmetic every report shares (no I/O).

Availability (interval unions) and DORA (medians) are computed here from the fact rows the store
selected (`*_report`); the other reports fold the store's SQL aggregates (domain/report_rows.py)
with `fold`/`total` and round as these helpers do (2 decimals; hours, minutes; null when there is
nothing to divide by). Each returns `(rows, totals)`: rows with exactly the definition's columns,
in its order.
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


def in_hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def mean_in(total: float, count: int, unit: float) -> float | None:
    """A mean of durations summed in seconds, in `unit`s (3600: hours, 60: minutes), 2 decimals."""
    return round(total / unit / count, 2) if count else None


def median_of(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def text_of(value: Any) -> str:
    return "" if value is None else str(value)


def fold(
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


def fold_all(
    cells: Iterable[Row], sums: Sequence[str], *, least: Sequence[str] = (), greatest: Sequence[str] = ()
) -> dict[str, Any]:
    """Every group folded into one (zeros and Nones when there is none)."""
    empty = dict.fromkeys(sums, 0) | dict.fromkeys((*least, *greatest))
    return fold(cells, lambda _: (), sums, least=least, greatest=greatest).get((), empty)


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
            per_service[s]["lead"].append(in_hours(c["implemented_at"] - c["created_at"]))
    for i in outages:
        if i["resolved_at"] is not None and window.start <= i["resolved_at"] < window.end:
            per_service[str(i["service_id"])]["restore"].append(in_hours(i["resolved_at"] - i["opened_at"]))

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
                "lead_time_hours": median_of(found["lead"]),
                "change_failure_rate_pct": pct(sum(1 for d in deploys if failed(d)), len(deploys)),
                "restores": len(found["restore"]),
                "time_to_restore_hours": median_of(found["restore"]),
            }
        )
    succeeded_all = sum(1 for d in all_deploys if d["result"] == "succeeded")
    totals = {
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "deployments": len(all_deploys),
        "deployment_frequency_per_day": round(succeeded_all / window.days, 3) if window.days else None,
        "lead_time_hours": median_of([h for f in per_service.values() for h in f["lead"]]),
        "change_failure_rate_pct": pct(sum(1 for d in all_deploys if failed(d)), len(all_deploys)),
        "time_to_restore_hours": median_of([h for f in per_service.values() for h in f["restore"]]),
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
