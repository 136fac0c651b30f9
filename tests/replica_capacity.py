"""The capacity job in the replica load (tests/replica_load.py): a real Prometheus (Debian's
`prometheus`, tests/prometheus.py) scrapes a small exporter served here, whose gauge per CI
follows a known cycle of wall time (ok, warning, critical, ok again), so that breaches and
clears fall due at known points; both config workers run the capacity job against it.

Counted from config's database (one snapshot) against what Prometheus serves on the job's grid:
every instant Prometheus serves for a CI with thresholds is stored once with the value it serves
(none missing, none made up; the samples' key makes a second copy impossible, so a window stored
by both workers would fail one of them); every crossing due on those values is published exactly
once; and no critical breach opened two incidents in the incident service (its consumers took
each in once)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from services.config.domain.capacity import Crossing, Level, Thresholds, level_change
from tests.infra import eventually
from tests.prometheus import Prometheus, free_port

METRIC = "replica_disk_used_ratio"
PROMQL = f"max by (ci_id) ({METRIC})"
WARNING, CRITICAL = 0.7, 0.9
STEP_S = 1.0
CYCLE = (0.5, 0.8, 0.95, 0.4)
"""The gauge's values in turn: ok, warning (a breach), critical (a breach), ok (a clearing)."""
PHASE_S = 3.0
"""Seconds each value of the cycle is served (a scrape each second: each is seen)."""
CIS = 2
WORKER_ENV = {
    "CONFIG_CAPACITY_INTERVAL_S": str(STEP_S),
    "CONFIG_CAPACITY_SETTLE_S": "2",  # a scrape of a busy machine is ingested within its 1 s timeout
    "CONFIG_CAPACITY_TIMEOUT_S": "5",
    "CONFIG_CAPACITY_FIRST_LOOK_BACK": "2",
    "CONFIG_CAPACITY_MAX_CATCH_UP_POINTS": "30",
}
BREACHED, CLEARED = "capacity.threshold_breached.v1", "capacity.threshold_cleared.v1"


@dataclass
class CapacityCounts:
    samples_stored: int = 0
    samples_served: int = 0
    samples_wrong: int = 0
    """Instants served but not stored, stored but not served, or stored with another value."""
    crossings_due: int = 0
    crossings_published_once: int = 0
    crossings_published_twice: int = 0
    crossings_not_due: int = 0
    critical_breaches: int = 0
    incidents_opened: int = 0
    """One per critical breach: where two incident workers take a CI's clearing before its breach,
    the clearing waits for it (delivered again) instead of finding no alert."""
    incidents_open: int = 0
    """None once the gauges are back at ok: each breach's clearing resolved its incident."""
    samples: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return (
            self.samples_wrong == 0
            and self.crossings_published_twice == 0
            and self.crossings_not_due == 0
            and self.crossings_published_once == self.crossings_due
            and self.incidents_opened == self.critical_breaches
            and self.incidents_open == 0
        )


class CapacitySource:
    """The exporter and the Prometheus scraping it. The gauge of CI number k is
    CYCLE[(t // PHASE_S + k) % 4] at wall time t until `freeze`, then ok (CYCLE[-1])."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.frozen_at: float | None = None
        self.ci_ids: list[str] = []
        self._registry = CollectorRegistry()
        self._gauge = Gauge(METRIC, "Share of the disk in use", ["ci_id"], registry=self._registry)
        self.prometheus: Prometheus | None = None

    def value(self, k: int) -> float:
        if self.frozen_at is not None:
            return CYCLE[-1]
        return CYCLE[(int(time.time() // PHASE_S) + k) % len(CYCLE)]

    def track(self, ci_id: str) -> None:
        k = len(self.ci_ids)
        self.ci_ids.append(ci_id)
        self._gauge.labels(ci_id=ci_id).set_function(lambda: self.value(k))

    def freeze(self) -> None:
        self.frozen_at = time.time()

    @property
    def url(self) -> str:
        assert self.prometheus is not None
        return self.prometheus.base


@asynccontextmanager
async def capacity_source(folder: Path) -> AsyncIterator[CapacitySource]:
    source = CapacitySource(folder)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=source._registry)
    scrape = (
        "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
        f"scrape_configs:\n  - job_name: disks\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    (folder / "prometheus").mkdir(exist_ok=True)
    try:
        async with Prometheus(scrape, folder / "prometheus") as prometheus:
            source.prometheus = prometheus
            yield source
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def set_up(call: Any, source: CapacitySource) -> None:
    """The metric and CIS CIs with thresholds on it, through config's API (`call` is the load
    client's `expect`)."""
    metric = {"name": METRIC, "unit": "ratio", "promql": PROMQL, "warning": WARNING, "critical": CRITICAL}
    assert await call(201, "config", "POST", "/api/v1/capacity/metrics", json=metric) is not None
    for n in range(CIS):
        ci = await call(201, "config", "POST", "/api/v1/cis", json={"name": f"disk-{n}", "type": "server"})
        assert ci is not None
        source.track(ci["id"])
        path = f"/api/v1/capacity/metrics/{METRIC}/thresholds/{ci['id']}"
        assert await call(200, "config", "PUT", path, json={}) is not None


async def sampled_past_freeze(conn: Any, source: CapacitySource) -> None:
    """Wait until the job sampled past the freeze (the last clearing is stored and emitted)."""
    assert source.frozen_at is not None
    after = source.frozen_at + PHASE_S

    async def past() -> None:
        until = await conn.fetchval("SELECT sampled_until FROM capacity_metric WHERE name = $1", METRIC)
        assert until is not None and until.timestamp() > after, until

    await eventually(past, within_s=120, interval=0.5)


async def count_capacity(config_conn: Any, incident_conn: Any, source: CapacitySource) -> CapacityCounts:
    counts = CapacityCounts()
    async with config_conn.transaction(isolation="repeatable_read", readonly=True):  # one snapshot
        metric = await config_conn.fetchrow("SELECT id, sampled_until FROM capacity_metric WHERE name = $1", METRIC)
        rows = await config_conn.fetch(
            "SELECT ci_id, at, value FROM capacity_sample WHERE metric_id = $1", metric["id"]
        )
        events = await config_conn.fetch(
            "SELECT routing_key, payload FROM outbox WHERE routing_key IN ($1, $2)", BREACHED, CLEARED
        )
    stored = {(str(r["ci_id"]), r["at"].timestamp()): float(r["value"]) for r in rows}
    counts.samples_stored = len(rows)
    first = {ci: min(at for c, at in stored if c == ci) for ci in source.ci_ids if any(c == ci for c, _ in stored)}
    if not first:
        counts.samples.append("no sample stored")
        counts.samples_wrong = 1
        return counts
    served = await _served(source, min(first.values()), metric["sampled_until"].timestamp())
    served = {(ci, at): v for (ci, at), v in served.items() if ci in first and at >= first[ci]}
    counts.samples_served = len(served)
    wrong = {k for k in served.keys() | stored.keys() if served.get(k) != stored.get(k)}
    counts.samples_wrong = len(wrong)
    counts.samples += [f"sample {k}: served {served.get(k)}, stored {stored.get(k)}" for k in sorted(wrong)[:5]]
    due = _due(served)
    published = Counter(_crossing(r["routing_key"], json.loads(r["payload"])["data"]) for r in events)
    counts.crossings_due = len(due)
    counts.crossings_published_once = sum(1 for c in due if published[c] == 1)
    counts.crossings_published_twice = sum(1 for n in published.values() if n > 1)
    counts.crossings_not_due = sum(1 for c in published if c not in due)
    counts.samples += [f"published, not due: {c}" for c in list(published - Counter(due))[:5]]
    counts.critical_breaches = sum(1 for c in due if c[1:3] == (Crossing.BREACHED.value, Level.CRITICAL.value))
    incidents = await incident_conn.fetch(
        "SELECT i.status FROM monitoring_alert a JOIN incident i ON i.id = a.incident_id"
        " WHERE a.fingerprint LIKE 'capacity:%' AND a.labels::text LIKE $1",
        f"%{METRIC}%",
    )
    counts.incidents_opened = len(incidents)
    counts.incidents_open = sum(1 for i in incidents if i["status"] not in ("resolved", "closed"))
    return counts


def _due(served: dict[tuple[str, float], float]) -> set[tuple[str, str, str, str, float]]:
    """The crossings the served values call for, per CI from its first stored instant (level ok
    before it, as the thresholds were set): (ci, crossing, level, current level, instant)."""
    limits = Thresholds(warning=WARNING, critical=CRITICAL)
    due = set()
    levels: dict[str, Level] = {}
    for (ci, at), value in sorted(served.items(), key=lambda item: (item[0][0], item[0][1])):
        level = limits.level_of(value)
        change = level_change(levels.get(ci, Level.OK), level)
        levels[ci] = level
        if change is not None:
            due.add((ci, change.crossing.value, change.level.value, level.value, at))
    return due


def _crossing(routing_key: str, data: dict[str, Any]) -> tuple[str, str, str, str, float]:
    crossing = Crossing.BREACHED if routing_key == BREACHED else Crossing.CLEARED
    at = datetime.fromisoformat(data["sampled_at"]).astimezone(UTC).timestamp()
    return (str(data["ci_id"]), crossing.value, data["level"], data["current_level"], at)


async def _served(source: CapacitySource, start: float, end: float) -> dict[tuple[str, float], float]:
    """What Prometheus serves on the job's grid, (ci, instant) -> value."""
    params = {"query": PROMQL, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{STEP_S:g}"}
    async with httpx.AsyncClient(base_url=source.url, timeout=30) as client:
        answer = await client.post("/api/v1/query_range", data=params)
    assert answer.status_code == 200, answer.text
    found = {}
    for series in answer.json()["data"]["result"]:
        for at, v in series["values"]:
            found[(series["metric"].get("ci_id", ""), float(at))] = float(v)
    return found


def describe(c: CapacityCounts) -> str:
    return (
        f"capacity job: {c.samples_stored} samples stored of {c.samples_served} served, {c.samples_wrong} wrong;"
        f" {c.crossings_published_once} of {c.crossings_due} crossings due published once,"
        f" {c.crossings_published_twice} twice, {c.crossings_not_due} not due;"
        f" {c.incidents_opened} incidents for {c.critical_breaches} critical breaches, {c.incidents_open} left open"
    )
