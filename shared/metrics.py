"""OpenTelemetry metrics, configured with the traces (shared.telemetry), served as Prometheus text.

- `OTEL_METRICS_EXPORTER`: `prometheus` (the default), `otlp`, `console`, `none`, or a comma list.
  `prometheus` is what `/metrics` serves (every service mounts it, shared.app; a worker run apart
  serves it on its own port, shared.worker); `otlp` pushes to the same `OTEL_EXPORTER_OTLP_*`
  endpoint and protocol as the traces (or their `_METRICS_` variants) every
  `OTEL_METRIC_EXPORT_INTERVAL` ms (read by the SDK). The resource (`OTEL_SERVICE_NAME`,
  `OTEL_RESOURCE_ATTRIBUTES`) is the traces' one; Prometheus shows it as `target_info`.
- The instruments the suite records itself are declared here, named `itsm.*`; the HTTP server
  ones come from the FastAPI instrumentation. The connection pool usage
  (`db.client.connections.usage`, the name and labels of the SQLAlchemy instrumentation's) is a
  gauge read from each engine's pool when collected (`watch_pool`), not an up-down counter moved
  on every checkout and checkin: the SDK's `add` cost ~0.1 ms of CPU, four per request.
  docs/operations.md lists them all with their Prometheus names and labels.

Backlog-type values (outbox rows, queue depths) are observable gauges: a sampler
(shared.backlog) refreshes a `Readings` every few seconds and the gauges' callbacks, run when
Prometheus scrapes, only read the latest values, so a scrape never waits on the database or broker.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import View
from opentelemetry.sdk.resources import Resource
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder

# What a histogram of seconds needs for a consumer or a watcher pass: 1 ms to 2 minutes.
SECONDS_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

_meter = metrics.get_meter("itsm")

OUTBOX_PUBLISHED = _meter.create_counter(
    "itsm.outbox.published", unit="{event}", description="Outbox rows the relay published to the broker"
)
OUTBOX_PUBLISH_FAILURES = _meter.create_counter(
    "itsm.outbox.publish_failures", unit="{event}", description="Outbox rows the relay failed to publish (retried)"
)
CONSUMER_HANDLING = _meter.create_histogram(
    "itsm.consumer.handling.duration",
    unit="s",
    description="Time to apply one delivery (or one batch) in the consumer, by outcome",
    explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
)
CONSUMER_PROCESSED = _meter.create_counter(
    "itsm.consumer.processed", unit="{event}", description="Events applied by the consumer"
)
CONSUMER_DUPLICATES = _meter.create_counter(
    "itsm.consumer.duplicates", unit="{event}", description="Redelivered events the inbox skipped"
)
CONSUMER_RETRIES = _meter.create_counter(
    "itsm.consumer.retries", unit="{event}", description="Failed deliveries sent to the retry queue"
)
CONSUMER_WAITING = _meter.create_counter(
    "itsm.consumer.waiting",
    unit="{event}",
    description="Deliveries sent back to wait for an event they depend on (not counted as failures)",
)
CONSUMER_DEAD_LETTERED = _meter.create_counter(
    "itsm.consumer.dead_lettered", unit="{event}", description="Deliveries moved to the dead-letter queue"
)
CAPACITY_SAMPLES = _meter.create_counter(
    "itsm.capacity.samples", unit="{sample}", description="Capacity samples stored from Prometheus, by metric"
)
WATCHER_PASS = _meter.create_histogram(
    "itsm.watcher.pass.duration",
    unit="s",
    description="Time of one pass of a periodic job (watcher), by outcome",
    explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
)


@dataclass(eq=False)
class Readings:
    """The latest sampled values of one service, keyed by gauge name: (value, attributes) pairs.

    The sampler replaces a gauge's list whole, so the scraping thread reads one sample or the next,
    never half of one. A gauge with no pairs (its source unreachable) is absent from the scrape."""

    service: str
    values: dict[str, list[tuple[float, dict[str, str]]]] = field(default_factory=dict)

    def set(self, gauge: str, pairs: list[tuple[float, dict[str, str]]]) -> None:
        self.values[gauge] = [(value, {"service": self.service, **attributes}) for value, attributes in pairs]

    def clear(self, gauge: str) -> None:
        self.values.pop(gauge, None)


_live: set[Readings] = set()
_live_lock = threading.Lock()


def publish(readings: Readings) -> None:
    """Let the gauges report these readings (until `withdraw`)."""
    with _live_lock:
        _live.add(readings)


def withdraw(readings: Readings) -> None:
    with _live_lock:
        _live.discard(readings)


def _observe(gauge: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def callback(options: CallbackOptions) -> Iterable[Observation]:
        with _live_lock:
            live = list(_live)
        return [Observation(value, attrs) for readings in live for value, attrs in readings.values.get(gauge, ())]

    return callback


GAUGES = {
    "itsm.outbox.pending": ("{event}", "Outbox rows not yet published (counted up to a bound)"),
    "itsm.outbox.oldest_pending_age": ("s", "Age of the oldest unpublished outbox row (0 when none)"),
    "itsm.consumer.queue_depth": ("{message}", "Messages ready in the service's queue: the consumer's lag"),
    "itsm.consumer.queue_consumers": ("{consumer}", "Consumers attached to the service's queue, on any replica"),
    "itsm.consumer.dead_letter_queue_depth": ("{message}", "Messages waiting in the service's dead-letter queue"),
    "itsm.consumer.attached": ("1", "1 when this process's consumer is attached to its queue, else 0"),
    "itsm.capacity.source_up": ("1", "1 when the capacity job's last query of its source (Prometheus) was answered"),
}
for _name, (_unit, _description) in GAUGES.items():
    _meter.create_observable_gauge(_name, callbacks=[_observe(_name)], unit=_unit, description=_description)


_pools: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_pools_lock = threading.Lock()


def watch_pool(pool: Any, name: str) -> None:
    """Report `pool` (an engine's SQLAlchemy pool) as `db.client.connections.usage` with label
    `pool.name` = `name`, `state` = idle or used, until the pool is gone."""
    with _pools_lock:
        _pools[pool] = name


def _pool_usage(options: CallbackOptions) -> Iterable[Observation]:
    with _pools_lock:
        pools = list(_pools.items())
    totals: dict[tuple[str, str], int] = {}
    for pool, name in pools:
        checked_in, checked_out = getattr(pool, "checkedin", None), getattr(pool, "checkedout", None)
        if checked_in is None or checked_out is None:
            continue  # a pool that keeps no connections (NullPool, StaticPool)
        totals[(name, "idle")] = totals.get((name, "idle"), 0) + int(checked_in())
        totals[(name, "used")] = totals.get((name, "used"), 0) + int(checked_out())
    return [Observation(value, {"pool.name": name, "state": state}) for (name, state), value in totals.items()]


_meter.create_observable_gauge(
    "db.client.connections.usage",
    callbacks=[_pool_usage],
    unit="connections",
    description="Connections of the pool, by state (idle, used)",
)


def _metric_readers() -> list[MetricReader]:
    # Unset: Prometheus only, even where traces go to an OTLP endpoint: that endpoint is often a
    # trace store (Jaeger) that would refuse metrics every export interval.
    names = os.environ.get("OTEL_METRICS_EXPORTER", "prometheus")
    readers: list[MetricReader] = []
    for name in (n.strip() for n in names.split(",")):
        if name == "prometheus":
            from opentelemetry.exporter.prometheus import PrometheusMetricReader

            readers.append(PrometheusMetricReader(scope_info_enabled=False))
        elif name == "console":
            readers.append(PeriodicExportingMetricReader(ConsoleMetricExporter()))
        elif name == "otlp":
            protocol = os.environ.get("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL") or os.environ.get(
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
            )
            if protocol == "grpc":
                from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as Grpc

                readers.append(PeriodicExportingMetricReader(Grpc()))
            else:
                from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as Http

                readers.append(PeriodicExportingMetricReader(Http()))
    return readers


HTTP_SERVER_LABELS = {"http.method", "http.scheme", "http.flavor", "http.status_code", "http.target"}
"""The HTTP server attributes kept as labels. The instrumentation also records `http.host`,
`http.server_name` and `net.host.port`, taken from the request's Host header: a client sending a
new Host with each request would make a new series each time, held in memory for good (this SDK
has no cardinality limit)."""
HTTP_SERVER_LABELS_STABLE = {
    "http.request.method",
    "url.scheme",
    "network.protocol.version",
    "http.response.status_code",
    "http.route",
}
"""The same under the stable HTTP conventions (`OTEL_SEMCONV_STABILITY_OPT_IN=http` or `http/dup`),
which name the Host header's parts `server.address` and `server.port`: left out the same way."""

_HTTP_SERVER_INSTRUMENTS = (
    "http.server.duration",
    "http.server.active_requests",
    "http.server.response.size",
    "http.server.request.size",
)
_HTTP_SERVER_INSTRUMENTS_STABLE = (
    "http.server.request.duration",
    "http.server.active_requests",
    "http.server.response.body.size",
    "http.server.request.body.size",
)


def configure_metrics(resource: Resource) -> MeterProvider:
    """Set the global meter provider with the readers `OTEL_METRICS_EXPORTER` names (once a process)."""
    labels = HTTP_SERVER_LABELS | HTTP_SERVER_LABELS_STABLE  # one instrument name is in both conventions
    names = dict.fromkeys((*_HTTP_SERVER_INSTRUMENTS, *_HTTP_SERVER_INSTRUMENTS_STABLE))
    bounded = [View(instrument_name=name, attribute_keys=labels) for name in names]
    provider = MeterProvider(resource=resource, metric_readers=_metric_readers(), views=bounded)
    metrics.set_meter_provider(provider)
    return provider


def metrics_router() -> APIRouter:
    """`GET /metrics`: the process's metrics in the Prometheus text format (or OpenMetrics, as the
    scraper asks). No token: it holds counts and timings, no record (docs/security.md)."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def scrape(request: Request) -> Response:  # a plain def: collecting runs in the thread pool
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(REGISTRY), media_type=content_type)

    return router
