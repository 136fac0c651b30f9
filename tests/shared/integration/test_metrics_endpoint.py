"""`GET /metrics` on a service (here incident, with its real database and broker): the Prometheus
text of the HTTP, pool, outbox, consumer and watcher instruments, without a token, outside the
OpenAPI document."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from services.incident.app import create_app
from services.incident.settings import IncidentSettings
from services.supplier.app import SPEC
from services.supplier.settings import SupplierSettings
from shared.worker import run_worker
from tests.conftest import running
from tests.infra import Servers, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

INCIDENT = {"title": "Disk full on db01", "caller": "ops", "impact": 2, "urgency": 1}


@pytest.fixture
async def incident(
    servers: Servers, service_database: Callable[[str], Any], make_settings: Callable[..., Any]
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    prefix = servers.new_queue_prefix("metrics")
    settings = make_settings(
        IncidentSettings, await service_database("incident"), queue_prefix=prefix, metrics_sample_interval_s=0.2
    )
    async with running(create_app(settings)) as client:

        async def ready() -> None:
            assert (await client.get("/readyz")).status_code == 200

        await eventually(ready)
        yield client, f"{prefix}incident"


async def scrape(client: httpx.AsyncClient) -> list[Sample]:
    try:
        r = await client.get("/metrics")
    except httpx.TransportError as exc:
        raise AssertionError(f"not serving yet: {exc!r}") from exc
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return [sample for family in text_string_to_metric_families(r.text) for sample in family.samples]


def values(samples: list[Sample], name: str, **labels: str) -> list[float]:
    return [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]


async def test_metrics_cover_http_pool_outbox_consumer_and_watchers(
    incident: tuple[httpx.AsyncClient, str], auth: Callable[..., dict[str, str]]
) -> None:
    client, queue = incident
    r = await client.post("/api/v1/incidents", json=INCIDENT, headers=auth("agent"))
    assert r.status_code == 201, r.text
    assert (await client.get("/api/v1/no-such-route")).status_code == 404
    for host in ("a.example", "b.example"):  # the Host header is the client's to choose
        assert (await client.get("/api/v1/incidents", headers={"Host": host})).status_code == 401

    async def observed() -> list[Sample]:
        samples = await scrape(client)
        by_route = {"http_target": "/api/v1/incidents", "http_method": "POST", "http_status_code": "201"}
        assert sum(values(samples, "http_server_duration_milliseconds_count", **by_route)) >= 1
        pool = [s for s in samples if s.name == "db_client_connections_usage_connections"]
        assert {s.labels["state"] for s in pool if s.labels["pool_name"] == "incident"} == {"idle", "used"}
        assert values(samples, "itsm_outbox_pending", service="incident") == [0]
        assert values(samples, "itsm_outbox_oldest_pending_age_seconds", service="incident") == [0]
        assert sum(values(samples, "itsm_outbox_published_total", service="incident")) >= 1
        assert values(samples, "itsm_consumer_attached", service="incident") == [1]
        assert values(samples, "itsm_consumer_queue_consumers", queue=queue) == [1]
        assert len(values(samples, "itsm_consumer_queue_depth", queue=queue)) == 1
        assert values(samples, "itsm_consumer_dead_letter_queue_depth", queue=f"{queue}.dead") == [0]
        # incident consumes its own incident.created.v1 (problem analysis)
        assert sum(values(samples, "itsm_consumer_processed_total", queue=queue)) >= 1
        handled = values(samples, "itsm_consumer_handling_duration_seconds_count", queue=queue, outcome="processed")
        assert sum(handled) >= 1
        assert sum(values(samples, "itsm_watcher_pass_duration_seconds_count", watcher="sla-watcher")) >= 1
        return samples

    # Generous: in one full run the outbox sample timed out (2 s) for a stretch, and its gauges are
    # left out until a sample succeeds; every gauge must still show up.
    samples = await eventually(observed, within_s=60)
    # an unknown path is counted without a route label, so scans cannot blow up the series
    assert all(s.labels.get("http_target") != "/api/v1/no-such-route" for s in samples)
    assert not [s for s in samples if s.labels.get("http_target") == "/metrics"]
    http = [s for s in samples if s.name.startswith("http_server_")]
    # the stable conventions' names too, should a process run with OTEL_SEMCONV_STABILITY_OPT_IN
    assert {label for s in http for label in s.labels} <= {
        "http_request_method",
        "url_scheme",
        "network_protocol_version",
        "http_response_status_code",
        "http_route",
        "http_method",
        "http_scheme",
        "http_flavor",
        "http_status_code",
        "http_target",
        "le",
    }


async def test_metrics_need_no_token_and_stay_out_of_the_api_document(incident: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = incident
    assert (await client.get("/api/v1/incidents")).status_code == 401
    assert (await client.get("/metrics")).status_code == 200
    document = (await client.get("/openapi.json")).json()
    assert "/metrics" not in document["paths"]


async def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(incident: tuple[httpx.AsyncClient, str]) -> None:
    client, _ = incident
    r = await client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/openmetrics-text")
    assert r.text.rstrip().endswith("# EOF")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_a_worker_run_apart_serves_its_metrics_on_its_own_port(
    servers: Servers, service_database: Callable[[str], Any], make_settings: Callable[..., Any]
) -> None:
    port = free_port()
    prefix = servers.new_queue_prefix("wmetrics")
    settings = make_settings(
        SupplierSettings,
        await service_database("supplier"),
        queue_prefix=prefix,
        metrics_sample_interval_s=0.2,
        worker_metrics_port=port,
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(SPEC, settings, stop=stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def sampled() -> None:
                samples = await scrape(client)
                assert values(samples, "itsm_consumer_attached", service="supplier") == [1]
                assert values(samples, "itsm_consumer_queue_consumers", queue=f"{prefix}supplier") == [1]
                assert values(samples, "itsm_outbox_pending", service="supplier") == [0]
                watcher = {"service": "supplier", "watcher": "contract-expiry"}
                assert sum(values(samples, "itsm_watcher_pass_duration_seconds_count", **watcher)) >= 1

            await eventually(sampled, within_s=20)
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
    with pytest.raises(httpx.TransportError):  # the server is gone with the worker
        await httpx.AsyncClient().get(f"http://127.0.0.1:{port}/metrics", timeout=2)
