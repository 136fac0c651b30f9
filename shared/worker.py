"""A service's worker on its own: outbox relay and consumer without the HTTP API (for scaling).

It serves its metrics (shared.metrics) in the Prometheus text format at `/metrics` on
`worker_metrics_port` (the service's port + 100 unless set; 0: not served), on `host`.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import REGISTRY, start_http_server

from shared.runtime import ServiceRuntime, ServiceSpec
from shared.settings import ServiceSettings
from shared.telemetry import configure_logging, configure_telemetry

log = logging.getLogger(__name__)


def metrics_port(settings: ServiceSettings) -> int:
    return settings.port + 100 if settings.worker_metrics_port is None else settings.worker_metrics_port


async def run_worker(spec: ServiceSpec, settings: ServiceSettings, *, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT or SIGTERM (or until `stop` is set, when given)."""
    configure_logging(spec.name, level=settings.log_level, json_lines=settings.log_json)
    configure_telemetry(spec.name)
    runtime = ServiceRuntime(spec, settings, run_worker=True)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    port = metrics_port(settings)
    server = None
    if port:
        # prometheus-client's own server, on a thread: the scrape never waits on the event loop.
        server, thread = start_http_server(port, addr=settings.host, registry=REGISTRY)
        log.info("%s worker: metrics on http://%s:%d/metrics", spec.name, settings.host, port)
    await runtime.start()
    try:
        await stop.wait()
    finally:
        await runtime.stop()
        if server is not None:
            server.shutdown()
            server.server_close()
            thread.join(5)
