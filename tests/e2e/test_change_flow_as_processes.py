"""Flow 1 across processes: change and config run as two service processes that talk only through
RabbitMQ; each exports its spans over OTLP/HTTP to a small collector in this test, which checks
that one trace runs from the change's HTTP request through config applying the CI changes and back
to the change recording the CMDB's answer."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.e2e.test_services_as_processes import started
from tests.infra import Servers, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass(frozen=True)
class ExportedSpan:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str


class Collector:
    """An OTLP/HTTP trace receiver (protobuf), keeping every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[ExportedSpan] = []
        self._lock = threading.Lock()

    def receive(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        found = []
        for resource_spans in request.resource_spans:
            attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            service = attributes.get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.append(
                        ExportedSpan(
                            service,
                            span.name,
                            span.kind,
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                        )
                    )
        with self._lock:
            self.spans.extend(found)

    def snapshot(self) -> list[ExportedSpan]:
        with self._lock:
            return list(self.spans)


@contextmanager
def otlp_collector() -> Iterator[tuple[Collector, str]]:
    collector = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path != "/v1/traces":
                self.send_response(404)
                self.end_headers()
                return
            collector.receive(body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True  # an exporter's connection left open never blocks the test's end
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield collector, f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    finally:
        server.shutdown()
        server.server_close()


def tracing_env(endpoint: str) -> dict[str, str]:
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "parentbased_always_on",  # every trace: the test follows one request
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # ms: spans reach the collector soon after they end
    }


async def test_a_change_implemented_in_one_process_updates_config_in_another_in_one_trace(
    servers: Servers, auth: Callable[..., dict[str, str]]
) -> None:
    cmdb = auth("config_manager", subject="cmdb")
    rita, mike = auth("requester", subject="rita"), auth("change_manager", subject="mike")
    prefix = servers.new_queue_prefix("e2echange")
    with otlp_collector() as (collector, endpoint):
        env = tracing_env(endpoint)
        async with (
            started("change", servers, prefix, extra_env=env) as change_api,
            started("config", servers, prefix, extra_env=env) as config_api,
        ):
            ci = (
                await config_api.post(
                    "/api/v1/cis", json={"name": "lb-e2e", "type": "network_device", "controlled": True}, headers=cmdb
                )
            ).json()
            start = datetime.now(UTC) - timedelta(minutes=5)
            body = {
                "title": "Upgrade lb-e2e",
                "planned_start": start.isoformat(),
                "planned_end": (start + timedelta(hours=2)).isoformat(),
                "affected_ci_ids": [ci["id"]],
                "backout_plan": "reinstall 9.3",
                "planned_ci_changes": [
                    {"action": "update", "ci_id": ci["id"], "attributes": {"product_version": "9.4.1"}}
                ],
            }

            async def created() -> dict[str, Any]:
                # The change process knows lb-e2e once config's ci.created reached its read model.
                r = await change_api.post("/api/v1/changes", json=body, headers=rita)
                assert r.status_code == 201, r.text
                answer: dict[str, Any] = r.json()
                return answer

            change = await eventually(created, within_s=30)
            url = f"/api/v1/changes/{change['id']}"
            assert (await change_api.post(f"{url}/submit", headers=rita)).status_code == 200
            ann = auth("change_manager", subject="ann")  # whoever sets the risk does not approve alone
            assert (await change_api.post(f"{url}/assess", json={"risk": "low"}, headers=ann)).status_code == 200
            assert (await change_api.post(f"{url}/approve", headers=mike)).status_code == 200

            async def config_knows_the_approval() -> None:
                touched = (await config_api.get(f"/api/v1/cis/{ci['id']}/changes", headers=cmdb)).json()
                assert [c["number"] for c in touched["planned"]] == [change["number"]]

            await eventually(config_knows_the_approval, within_s=30)
            for action in ("schedule", "start"):
                assert (await change_api.post(f"{url}/{action}", headers=mike)).status_code == 200
            completed = await change_api.post(f"{url}/complete", headers=mike)
            assert completed.json()["cmdb_outcome"] == "pending"

            async def applied() -> None:
                assert (await change_api.get(url, headers=mike)).json()["cmdb_outcome"] == "applied"

            await eventually(applied, within_s=30)
            history = (await config_api.get(f"/api/v1/cis/{ci['id']}/history", headers=cmdb)).json()["items"]
            assert (history[0]["cause_kind"], history[0]["cause_reference"]) == ("change", change["number"])
            assert history[0]["changes"] == {"product_version": {"old": None, "new": "9.4.1"}}
            shown = (await config_api.get(f"/api/v1/cis/{ci['id']}", headers=cmdb)).json()
            assert (shown["product_version"], shown["version"]) == ("9.4.1", history[0]["version"])

            def one_trace() -> list[ExportedSpan]:
                spans = collector.snapshot()
                posts = [
                    s
                    for s in spans
                    if s.service == "itsm-change"
                    and s.kind == Span.SPAN_KIND_SERVER
                    and s.name.startswith("POST /api/v1/changes/")
                    and s.name.endswith("/complete")
                ]
                # An assertion, not an unpacking: `eventually` retries until the batch exporter sent it.
                assert len(posts) == 1, sorted({(s.service, s.name) for s in spans})
                [post] = posts
                return [s for s in spans if s.trace_id == post.trace_id]

            async def whole_flow_exported() -> list[ExportedSpan]:
                in_trace = one_trace()
                by = {(s.service, s.kind) for s in in_trace}
                assert ("itsm-config", Span.SPAN_KIND_CONSUMER) in by  # config took change.implemented
                assert ("itsm-config", Span.SPAN_KIND_PRODUCER) in by  # and published its answer
                assert ("itsm-change", Span.SPAN_KIND_CONSUMER) in by  # change took config.change_applied
                return in_trace

            in_trace = await eventually(whole_flow_exported, within_s=30)
        # Config's database work of applying the change (the new CI version) is in the same trace,
        # below its consumer span; so is the change's recording of the outcome.
        ids = {s.span_id: s for s in in_trace}

        def ancestors(span: ExportedSpan) -> list[ExportedSpan]:
            chain = []
            while span.parent_span_id in ids:
                span = ids[span.parent_span_id]
                chain.append(span)
            return chain

        config_writes = [s for s in in_trace if s.service == "itsm-config" and s.name.startswith(("INSERT", "UPDATE"))]
        assert config_writes
        assert any(
            a.service == "itsm-config" and a.kind == Span.SPAN_KIND_CONSUMER for a in ancestors(config_writes[0])
        )
        change_consumers = [s for s in in_trace if s.service == "itsm-change" and s.kind == Span.SPAN_KIND_CONSUMER]
        assert any(
            a.service == "itsm-config" for c in change_consumers for a in ancestors(c)
        )  # the change's consume descends from config's spans: one causal chain, not only a shared id
