"""Telemetry configuration from OTEL_* variables, and JSON logs that carry the trace."""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased

from shared.telemetry import DEFAULT_SAMPLE_RATIO, JsonLogFormatter, _exporters, default_sampler


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, [HttpExporter]),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, [GrpcExporter]),
        ({"OTEL_TRACES_EXPORTER": "console"}, [ConsoleSpanExporter]),
        ({"OTEL_TRACES_EXPORTER": "console,otlp"}, [ConsoleSpanExporter, HttpExporter]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, []),
    ],
)
def test_exporters_follow_the_standard_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: list[type]
) -> None:
    for var in (
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    ):
        monkeypatch.delenv(var, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert [type(e) for e in _exporters()] == expected


@pytest.mark.parametrize(
    ("env", "ratio"),
    [
        ({}, DEFAULT_SAMPLE_RATIO),
        ({"OTEL_TRACES_SAMPLER_ARG": "0.25"}, 0.25),
        ({"OTEL_TRACES_SAMPLER_ARG": "lots"}, DEFAULT_SAMPLE_RATIO),
        ({"OTEL_TRACES_SAMPLER_ARG": "7"}, 1.0),
    ],
)
def test_unset_the_sampler_is_parent_based_with_a_ratio(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], ratio: float
) -> None:
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    monkeypatch.delenv("OTEL_TRACES_SAMPLER_ARG", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    sampler = default_sampler()
    assert isinstance(sampler, ParentBased)
    assert sampler.get_description().startswith(f"ParentBased{{root:TraceIdRatioBased{{{ratio}}},")


def test_a_sampler_named_in_the_environment_is_left_to_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_always_on")
    assert default_sampler() is None


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("shared.test", logging.WARNING, __file__, 1, message, None, None)


def test_a_log_line_is_json_with_the_current_trace_and_span_ids() -> None:
    formatter = JsonLogFormatter("incident")
    with trace.get_tracer("tests").start_as_current_span("work") as span:
        line = json.loads(formatter.format(_record("disk %s full")))
    context = span.get_span_context()
    assert line["message"] == "disk %s full"
    assert line["level"] == "warning"
    assert line["service"] == "incident"
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")


def test_a_log_line_outside_a_span_has_no_trace_ids() -> None:
    line = json.loads(JsonLogFormatter("incident").format(_record("idle")))
    assert "trace_id" not in line


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ["PrometheusMetricReader"]),
        # an OTLP endpoint for the traces (often a trace store) does not turn on metric pushes
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, ["PrometheusMetricReader"]),
        (
            {"OTEL_METRICS_EXPORTER": "prometheus,otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"},
            ["PrometheusMetricReader", "http"],
        ),
        ({"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, ["grpc"]),
        ({"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "grpc"}, ["grpc"]),
        ({"OTEL_METRICS_EXPORTER": "console,prometheus"}, ["ConsoleMetricExporter", "PrometheusMetricReader"]),
        ({"OTEL_METRICS_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, []),
    ],
)
def test_metric_readers_follow_the_standard_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: list[str]
) -> None:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    from shared.metrics import _metric_readers

    for var in (
        "OTEL_METRICS_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    ):
        monkeypatch.delenv(var, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    readers = _metric_readers()
    try:
        kinds = []
        for reader in readers:
            if isinstance(reader, PeriodicExportingMetricReader):
                exporter = type(reader._exporter)
                kinds.append(exporter.__module__.split(".")[-2] if "otlp" in exporter.__module__ else exporter.__name__)
            else:
                kinds.append(type(reader).__name__)
        assert kinds == expected
    finally:
        for reader in readers:
            if isinstance(reader, PrometheusMetricReader):
                reader.shutdown()  # unregisters its collector from the process's registry
            else:
                reader.shutdown(timeout_millis=100)
