"""Capacity from a real Prometheus (Debian's `prometheus`) scraping a small exporter the test
runs (`prometheus-client`, one gauge per CI the test moves). The config service's capacity job
samples it over Prometheus's HTTP API on a 1 s grid; the incident service takes its events in,
both in process, over the real RabbitMQ.

- the gauge crossing critical becomes an incident on that CI, and the crossing is detected at the
  first grid instant at which Prometheus served the value (every instant is sampled);
- clearing it publishes `capacity.threshold_cleared.v1`, which resolves that incident;
- Prometheus stopped: /readyz details and `itsm_capacity_source_up` say so, nothing is stored
  meanwhile; started again (same storage), the job catches up, and every instant Prometheus
  serves over the whole run is stored with the value it serves: no sample was lost or made up."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from services.config.app import create_app as create_config
from services.config.settings import ConfigSettings
from services.config.store.tables import outbox as config_outbox
from services.incident.app import create_app as create_incident
from services.incident.settings import IncidentSettings
from tests.conftest import running
from tests.infra import Servers, create_service_database, eventually, outbox_events
from tests.prometheus import Prometheus, free_port, skip_without_prometheus

skip_without_prometheus()
pytestmark = pytest.mark.asyncio(loop_scope="session")

METRIC = "disk_used_ratio"
WARNING, CRITICAL = 0.7, 0.9
STEP_S = 1.0


@dataclass
class Exporter:
    port: int
    gauge: Gauge


@contextmanager
def exporter() -> Iterator[Exporter]:
    registry = CollectorRegistry()  # its own: not the process's default one
    gauge = Gauge(METRIC, "Share of the disk in use", ["ci_id"], registry=registry)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        yield Exporter(port, gauge)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Suite:
    config: httpx.AsyncClient
    incident: httpx.AsyncClient
    config_db: str
    prometheus: Prometheus
    exporter: Exporter


@pytest.fixture
async def suite(servers: Servers, make_settings: Callable[..., Any], tmp_path: Path) -> AsyncIterator[Suite]:
    prefix = servers.new_queue_prefix("capacity")
    config_db = await create_service_database(servers, "config", label="capacity")
    incident_db = await create_service_database(servers, "incident", label="capacity")
    with exporter() as exp:
        scrape = (
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"scrape_configs:\n  - job_name: disks\n    static_configs: [{{targets: ['127.0.0.1:{exp.port}']}}]\n"
        )
        async with Prometheus(scrape, tmp_path) as prometheus:
            incident_settings = make_settings(IncidentSettings, incident_db, queue_prefix=prefix)
            config_settings = make_settings(
                ConfigSettings,
                config_db,
                queue_prefix=prefix,
                prometheus_url=prometheus.base,
                capacity_interval_s=STEP_S,
                capacity_settle_s=0.5,
                capacity_timeout_s=2,
                capacity_first_look_back=3,
                capacity_max_catch_up_points=4,  # the catch-up after the outage takes several windows
            )
            async with (
                running(create_incident(incident_settings)) as incident,
                running(create_config(config_settings)) as config,
            ):
                for client in (incident, config):
                    await eventually(lambda c=client: _consuming(c), within_s=30)
                yield Suite(config, incident, config_db, prometheus, exp)


async def _consuming(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"]["consumer"] == "ok", r.text


async def test_a_critical_gauge_opens_an_incident_on_its_ci_clearing_resolves_it_and_no_sample_is_lost(
    suite: Suite, auth: Callable[..., dict[str, str]]
) -> None:
    manager, agent = auth("config_manager", subject="capacity-planner"), auth("agent")
    config, incident = suite.config, suite.incident
    gauge = suite.exporter.gauge

    r = await config.post("/api/v1/cis", json={"name": f"db-{uuid.uuid4().hex[:8]}", "type": "server"}, headers=manager)
    assert r.status_code == 201, r.text
    ci_id = r.json()["id"]
    other = await config.post(
        "/api/v1/cis", json={"name": f"db-{uuid.uuid4().hex[:8]}", "type": "server"}, headers=manager
    )
    other_id = other.json()["id"]
    gauge.labels(ci_id=ci_id).set(0.5)
    gauge.labels(ci_id=other_id).set(0.95)  # over critical, but no thresholds on it: not sampled
    gauge.labels(ci_id="not-a-ci").set(0.99)

    metric = {
        "name": METRIC,
        "unit": "ratio",
        "promql": f"max by (ci_id) ({METRIC})",
        "warning": WARNING,
        "critical": CRITICAL,
    }
    r = await config.post("/api/v1/capacity/metrics", json=metric, headers=manager)
    assert r.status_code == 201, r.text
    r = await config.put(f"/api/v1/capacity/metrics/{METRIC}/thresholds/{ci_id}", json={}, headers=manager)
    assert r.status_code == 200, r.text
    assert (r.json()["warning"], r.json()["critical"], r.json()["level"]) == (WARNING, CRITICAL, "ok")

    samples_url = f"/api/v1/capacity/metrics/{METRIC}/samples/{ci_id}"

    async def sampled() -> list[dict[str, Any]]:
        r = await config.get(samples_url, params={"limit": 5000}, headers=agent)
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    async def sampling() -> None:
        items = await sampled()
        assert items and items[-1]["value"] == 0.5, items

    await eventually(sampling, within_s=30, interval=0.3)

    # Over warning: its event carries the forecast's runway to critical; no incident.
    gauge.labels(ci_id=ci_id).set(0.8)

    async def at_warning() -> None:
        assert (await _threshold(config, agent, ci_id))["level"] == "warning"

    await eventually(at_warning, within_s=30, interval=0.3)
    [warned] = await _events(suite.config_db, ci_id, "capacity.threshold_breached.v1")
    assert (warned["level"], warned["current_level"], warned["value"]) == ("warning", "warning", 0.8)
    assert warned["runway_to_critical_s"] is not None and warned["runway_to_critical_s"] > 0  # rising: 0.5, then 0.8

    # Over critical: an incident on that CI, opened by the capacity job's event.
    gauge.labels(ci_id=ci_id).set(0.97)

    async def opened() -> dict[str, Any]:
        r = await incident.get("/api/v1/incidents", params={"ci_id": ci_id}, headers=agent)
        assert r.status_code == 200, r.text
        items = [i for i in r.json()["items"] if i["channel"] == "monitoring"]
        assert len(items) == 1, r.json()
        return items[0]

    opened_incident = await eventually(opened, within_s=30, interval=0.3)
    assert opened_incident["ci_id"] == ci_id and "disk_used_ratio" in opened_incident["title"]
    assert opened_incident["category"] == "capacity"
    threshold = await _threshold(config, agent, ci_id)
    assert threshold["level"] == "critical"
    # Detected at the first grid instant at which Prometheus served a value over critical.
    served = await _served(suite.prometheus, metric["promql"], ci_id, threshold["level_since"])
    first_over = min(at for at, v in served.items() if v >= CRITICAL)
    assert _instant(threshold["level_since"]) == first_over
    breaches = await _events(suite.config_db, ci_id, "capacity.threshold_breached.v1")
    assert [(e["level"], e["value"], e["ci_id"]) for e in breaches] == [
        ("warning", 0.8, ci_id),
        ("critical", 0.97, ci_id),
    ]
    assert breaches[1]["runway_to_critical_s"] is None  # only a warning looks ahead
    other_events = await outbox_events(suite.config_db, config_outbox, other_id)
    assert [e.routing_key for e in other_events] == ["ci.created.v1"]  # over critical, but no thresholds

    # Back under warning: the cleared event is published, and it resolves the incident.
    gauge.labels(ci_id=ci_id).set(0.4)

    async def resolved() -> None:
        r = await incident.get(f"/api/v1/incidents/{opened_incident['id']}", headers=agent)
        assert r.status_code == 200 and r.json()["status"] == "resolved", r.text

    await eventually(resolved, within_s=30, interval=0.3)
    cleared = await _events(suite.config_db, ci_id, "capacity.threshold_cleared.v1")
    assert [(e["level"], e["current_level"], e["value"]) for e in cleared] == [("critical", "ok", 0.4)]
    assert cleared[0]["breached_at"] == breaches[1]["sampled_at"]  # the breach this clearing ends
    assert (await _threshold(config, agent, ci_id))["level"] == "ok"

    # Prometheus stopped: the job says so, and stores nothing meanwhile.
    before_stop = await sampled()
    await suite.prometheus.stop()

    async def reported_down() -> None:
        r = await config.get("/readyz")
        assert r.status_code == 200, r.text  # the service itself is ready: capacity is a detail
        assert r.json()["details"]["capacity.prometheus"].startswith("unavailable"), r.json()
        metrics = (await config.get("/metrics")).text
        assert 'itsm_capacity_source_up{service="config",source="prometheus"} 0.0' in metrics, metrics

    await eventually(reported_down, within_s=20, interval=0.3)
    during = await sampled()
    assert during == before_stop  # nothing invented while Prometheus is away
    await eventually(reported_down, within_s=20, interval=0.3)  # a few more passes fail

    await suite.prometheus.start()

    async def caught_up() -> list[dict[str, Any]]:
        r = await config.get("/readyz")
        assert r.json()["details"]["capacity.prometheus"].startswith("ok"), r.json()
        items = await sampled()
        assert len(items) > len(before_stop) + 3, items
        return items

    await eventually(caught_up, within_s=40, interval=0.5)
    assert 'itsm_capacity_source_up{service="config",source="prometheus"} 1.0' in (await config.get("/metrics")).text
    stored = {_instant(s["at"]): s["value"] for s in await sampled()}
    served = await _served(suite.prometheus, metric["promql"], ci_id, min(stored), max(stored))
    assert stored == served  # every instant Prometheus serves, with its value; nothing more
    assert _instant(before_stop[-1]["at"]) in served and len(served) > len(before_stop)

    runway = await config.get("/api/v1/capacity/runway", headers=agent)
    assert runway.status_code == 200, runway.text
    row = next(r for r in runway.json()["items"] if r["ci_id"] == ci_id)
    assert (row["level"], row["last_value"], row["forecast"]["method"]) == ("ok", 0.4, "linear")
    # The job goes on sampling (the gauge still serves 0.4): the forecast took every sample stored
    # when it was read, at least those counted above and at most those stored after it.
    assert len(stored) <= row["forecast"]["points"] <= len(await sampled())


async def _threshold(config: httpx.AsyncClient, headers: dict[str, str], ci_id: str) -> dict[str, Any]:
    r = await config.get("/api/v1/capacity/runway", params={"limit": 200}, headers=headers)
    assert r.status_code == 200, r.text
    row: dict[str, Any] = next(i for i in r.json()["items"] if i["ci_id"] == ci_id and i["metric"] == METRIC)
    return row


async def _events(database_url: str, ci_id: str, routing_key: str) -> list[dict[str, Any]]:
    return [e.data for e in await outbox_events(database_url, config_outbox, ci_id) if e.routing_key == routing_key]


def _instant(value: str | float | datetime) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).timestamp()
    return float(value)


async def _served(
    prometheus: Prometheus, query: str, ci_id: str, start: str | float, end: float | None = None
) -> dict[float, float]:
    """What Prometheus serves for the CI on the job's grid (instant -> value)."""
    first = _instant(start) - 10 * STEP_S if end is None else _instant(start)
    last = _instant(datetime.now(UTC)) if end is None else end
    async with httpx.AsyncClient(base_url=prometheus.base, timeout=10) as client:
        params = {"query": query, "start": f"{first:.3f}", "end": f"{last:.3f}", "step": f"{STEP_S:g}"}
        r = await client.post("/api/v1/query_range", data=params)
    assert r.status_code == 200, r.text
    series = [s for s in r.json()["data"]["result"] if s["metric"].get("ci_id") == ci_id]
    assert len(series) == 1, r.json()
    return {float(at): float(v) for at, v in series[0]["values"]}
