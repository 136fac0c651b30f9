"""A real Prometheus (Debian package `prometheus`) scrapes the five services, each a uvicorn process
of its own, with deploy/'s alert rules loaded. The incident service
reaches RabbitMQ through a TCP proxy: with the proxy cut, incidents are still created and
Prometheus sees the incident outbox backlog rise (and its consumer detached); with the proxy back,
it sees the backlog fall to zero. The machine's broker itself is never stopped."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.deploy.dashboards import ALERTS, alert_expressions, as_instant_query, dashboard_queries, metric_names
from tests.e2e.test_services_as_processes import _free_port, _output_of, service_env, service_process
from tests.infra import Servers, create_service_database, eventually
from tests.prometheus import Prometheus, query, skip_without_prometheus, value
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.asyncio(loop_scope="session")

skip_without_prometheus()

SERVICES = ("incident", "change", "config", "supplier", "reporting")
CREATED_WHILE_CUT = 6
APPEAR_ON_FIRST_EVENT = {
    "itsm_outbox_publish_failures_total",
    "itsm_consumer_duplicates_total",
    "itsm_consumer_retries_total",
    "itsm_consumer_dead_lettered_total",
}
"""Counters that exist once something was counted (no publish failure, redelivery or dead letter
happens in this test)."""


@dataclass
class Suite:
    ports: dict[str, int]
    proxy: TcpProxy


def _proxied(amqp_url: str, proxy_port: int) -> str:
    broker = make_url(amqp_url.replace("amqp://", "postgresql://", 1))  # only to parse host and port
    proxied = amqp_url.replace(f"{broker.host}:{broker.port or 5672}", f"127.0.0.1:{proxy_port}")
    if proxied == amqp_url:  # a URL without an explicit port
        proxied = amqp_url.replace(f"@{broker.host}/", f"@127.0.0.1:{proxy_port}/")
    return proxied


@pytest.fixture
async def suite(servers: Servers) -> AsyncIterator[Suite]:
    """The five services as uvicorn processes (each its own metrics), on queues of their own;
    incident's broker through a proxy this test can cut."""
    broker = make_url(servers.amqp_url.replace("amqp://", "postgresql://", 1))
    proxy = TcpProxy(broker.host or "127.0.0.1", broker.port or 5672)
    await proxy.start()
    prefix = servers.new_queue_prefix("scrape")
    ports = {service: _free_port() for service in SERVICES}
    databases = [await create_service_database(servers, s, label="scrape") for s in SERVICES]  # one at a time:
    # migrations in parallel threads trip over each other
    with ExitStack() as stack:
        processes: dict[str, subprocess.Popen[bytes]] = {}
        for service, database_url in zip(SERVICES, databases, strict=True):
            env = {
                **service_env(service, servers, database_url, prefix),
                "ITSM_METRICS_SAMPLE_INTERVAL_S": "0.5",
                "ITSM_RELAY_POLL_INTERVAL_S": "0.2",
            }
            if service == "incident":
                env["ITSM_AMQP_URL"] = _proxied(servers.amqp_url, proxy.port)
            command = ["uvicorn", "--factory", f"services.{service}.app:create_app", "--port", str(ports[service])]
            processes[service] = stack.enter_context(service_process(command, env))
        # All told to stop at once (each then waited for), before the proxy goes: with the broker
        # reachable, a service's drain is quick.
        stack.callback(lambda: [p.terminate() for p in processes.values()])
        await asyncio.gather(*(_until_serving(processes[s], ports[s]) for s in SERVICES))
        yield Suite(ports, proxy)
    await proxy.cut()


async def _until_serving(process: subprocess.Popen[bytes], port: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:

        async def ready() -> None:
            assert process.poll() is None, _output_of(process)
            try:
                r = await client.get("/readyz")
            except httpx.TransportError as exc:
                raise AssertionError(str(exc)) from exc
            assert r.status_code == 200, r.text

        await eventually(ready, within_s=60, interval=0.2)


@pytest.fixture
async def prometheus(suite: Suite, tmp_path: Path) -> AsyncIterator[str]:
    jobs = "\n".join(
        f"  - job_name: itsm-{service}\n    static_configs: [{{targets: ['127.0.0.1:{p}']}}]"
        for service, p in suite.ports.items()
    )
    config = (
        f"global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: ['{ALERTS}']\nscrape_configs:\n{jobs}\n"
    )
    async with Prometheus(config, tmp_path) as server:
        yield server.base


async def test_prometheus_sees_the_outbox_backlog_rise_while_the_broker_is_cut_and_drain_after(
    suite: Suite, prometheus: str, auth: Callable[..., dict[str, str]]
) -> None:
    incident = httpx.AsyncClient(base_url=f"http://127.0.0.1:{suite.ports['incident']}", headers=auth("agent"))
    async with incident, httpx.AsyncClient(base_url=prometheus) as prom:

        async def every_service_scraped() -> None:
            r = await prom.get("/api/v1/targets", params={"state": "active"})
            assert r.status_code == 200, r.text
            targets = {t["labels"]["job"]: t["health"] for t in r.json()["data"]["activeTargets"]}
            assert targets == {f"itsm-{s}": "up" for s in SERVICES}, targets
            for service in SERVICES:  # each service's own backlog gauge, from its own scrape
                pending = f'itsm_outbox_pending{{job="itsm-{service}", service="{service}"}}'
                assert await value(prom, pending) == 0

        await eventually(every_service_scraped, within_s=30, interval=0.5)
        assert (await prom.get("/api/v1/rules")).json()["data"]["groups"][0]["name"] == "itsm"

        backlog = 'max(itsm_outbox_pending{service="incident"})'
        await suite.proxy.cut()
        for i in range(CREATED_WHILE_CUT):
            r = await incident.post(
                "/api/v1/incidents", json={"title": f"outage {i}", "caller": "ops", "impact": 2, "urgency": 1}
            )
            assert r.status_code == 201, r.text

        async def risen() -> None:
            assert await value(prom, backlog) >= CREATED_WHILE_CUT
            assert await value(prom, 'max(itsm_outbox_oldest_pending_age_seconds{service="incident"})') > 0
            assert await value(prom, 'max(itsm_consumer_attached{service="incident"})') == 0

        await eventually(risen, within_s=20, interval=0.5)

        await suite.proxy.start()  # the broker is back

        async def drained() -> None:
            assert await value(prom, backlog) == 0
            assert await value(prom, 'max(itsm_consumer_attached{service="incident"})') == 1

        await eventually(drained, within_s=30, interval=0.5)
        # The stored series shows both: the backlog rose to what was created, then came back to 0.
        highest = 'max(max_over_time(itsm_outbox_pending{service="incident"}[2m]))'
        assert await value(prom, highest) >= CREATED_WHILE_CUT
        published = 'sum(itsm_outbox_published_total{job="itsm-incident", service="incident"})'
        assert await value(prom, published) >= CREATED_WHILE_CUT
        created = (
            'sum(http_server_duration_milliseconds_count{job="itsm-incident",'
            ' http_target="/api/v1/incidents", http_method="POST", http_status_code="201"})'
        )
        assert await value(prom, created) >= CREATED_WHILE_CUT

        # What the dashboard and the alert rules read is there, and every dashboard query runs.
        names = set((await prom.get("/api/v1/label/__name__/values")).json()["data"])
        used = metric_names(dashboard_queries()) | metric_names(alert_expressions())
        missing = {n for n in used - APPEAR_ON_FIRST_EVENT if n not in names and f"{n}_bucket" not in names}
        assert missing == set()
        for promql in dashboard_queries():
            await query(prom, as_instant_query(promql))
