"""OpenTelemetry and logging, configured once per process from the standard `OTEL_*` variables.

- `OTEL_TRACES_EXPORTER`: `otlp`, `console`, `none`, or a comma list. Unset, it is `otlp` when
  `OTEL_EXPORTER_OTLP_ENDPOINT` (or its traces variant) is set and `none` otherwise, so a local
  run does not spam errors about a collector that is not there. Spans are still made either
  way, for the trace ids in the logs.
- `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (default) or `grpc`.
- `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`: read by the SDK.
- `OTEL_TRACES_SAMPLER[_ARG]`: read by the SDK when set. Unset, the default here is parent-based
  ratio sampling: a request that arrives with a sampled `traceparent` is traced, a new trace is
  kept with probability `OTEL_TRACES_SAMPLER_ARG` (default `DEFAULT_SAMPLE_RATIO`, 0.1). Set
  `OTEL_TRACES_SAMPLER=parentbased_always_on` to trace every request (docs/benchmarks.md, "Tracing
  cost", measures both).

SQLAlchemy, aio-pika and httpx are instrumented process-wide; FastAPI per app (see
`instrument_app`), without the internal ASGI receive/send spans and without the health probes
and `/metrics`. Metrics are configured here too, from `OTEL_METRICS_EXPORTER` (see shared.metrics):
the FastAPI instrumentation records the HTTP server duration by route and status; the connection
pool usage is read from the pools when collected (shared.metrics.watch_pool).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from opentelemetry import metrics, trace
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased

from shared.metrics import configure_metrics

_configured = False

DEFAULT_SAMPLE_RATIO = 0.1
"""The share of new traces kept when `OTEL_TRACES_SAMPLER` is not set (parent-based)."""


def default_sampler() -> Sampler | None:
    """The sampler when `OTEL_TRACES_SAMPLER` is unset: parent-based, new traces at
    `OTEL_TRACES_SAMPLER_ARG` or `DEFAULT_SAMPLE_RATIO`. None when the variable is set (the SDK
    reads it then, with all its standard values)."""
    if os.environ.get("OTEL_TRACES_SAMPLER", "").strip():
        return None
    raw = os.environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip()
    try:
        ratio = float(raw) if raw else DEFAULT_SAMPLE_RATIO
    except ValueError:
        ratio = DEFAULT_SAMPLE_RATIO
    return ParentBased(TraceIdRatioBased(min(1.0, max(0.0, ratio))))


def _exporters() -> list[SpanExporter]:
    names = os.environ.get("OTEL_TRACES_EXPORTER")
    if names is None:
        has_endpoint = any(
            os.environ.get(v) for v in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        )
        names = "otlp" if has_endpoint else "none"
    exporters: list[SpanExporter] = []
    for name in (n.strip() for n in names.split(",")):
        if name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
            )
            if protocol == "grpc":
                from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

                exporters.append(GrpcExporter())
            else:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

                exporters.append(HttpExporter())
    return exporters


def configure_telemetry(
    service_name: str,
    *,
    tracer_provider: TracerProvider | None = None,
    extra_processors: list[SpanProcessor] | None = None,
) -> TracerProvider:
    """Set the global tracer and meter providers and instrument libraries; later calls are no-ops.

    Call it before creating engines: the SQLAlchemy instrumentation wraps engine creation.
    """
    global _configured
    current = trace.get_tracer_provider()
    if _configured and isinstance(current, TracerProvider):
        return current
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", f"itsm-{service_name}")})
    if tracer_provider is None:
        tracer_provider = TracerProvider(resource=resource, sampler=default_sampler())
        for exporter in _exporters():
            tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
    for processor in extra_processors or []:
        tracer_provider.add_span_processor(processor)
    trace.set_tracer_provider(tracer_provider)
    configure_metrics(resource)
    # Spans only: the pool usage metric is a gauge read at collection (shared.metrics.watch_pool)
    # instead of the instrumentation's up-down counter moved on every checkout and checkin.
    SQLAlchemyInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=NoOpMeterProvider())
    AioPikaInstrumentor().instrument(tracer_provider=tracer_provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=tracer_provider)
    _configured = True
    return tracer_provider


def instrument_app(app: FastAPI) -> None:
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=trace.get_tracer_provider(),
        meter_provider=metrics.get_meter_provider(),
        excluded_urls="healthz,readyz,/metrics$",  # patterns searched in the URL
        exclude_spans=["receive", "send"],
    )


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, with the current trace and span ids."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            entry["trace_id"] = format(context.trace_id, "032x")
            entry["span_id"] = format(context.span_id, "016x")
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, *, level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonLogFormatter(service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiormq", "aio_pika"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if name == "uvicorn.access" and not logger.handlers and not logger.propagate:
            continue  # `--no-access-log` turned it off
        logger.handlers[:] = []
        logger.propagate = True
