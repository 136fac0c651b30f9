"""A service's worker on its own: outbox relay and consumer without the HTTP API (for scaling)."""

from __future__ import annotations

import asyncio
import signal

from shared.runtime import ServiceRuntime, ServiceSpec
from shared.settings import ServiceSettings
from shared.telemetry import configure_logging, configure_telemetry


async def run_worker(spec: ServiceSpec, settings: ServiceSettings) -> None:
    configure_logging(spec.name, level=settings.log_level, json_lines=settings.log_json)
    configure_telemetry(spec.name)
    runtime = ServiceRuntime(spec, settings, run_worker=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    try:
        await stop.wait()
    finally:
        await runtime.stop()
