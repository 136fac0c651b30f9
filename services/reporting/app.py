"""Reporting service composition root: `uvicorn --factory services.reporting.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.reporting import worker
from services.reporting.api import ROUTERS, dashboard
from services.reporting.settings import ReportingSettings
from services.reporting.store.tables import metadata
from shared.app import build_app
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="reporting",
    title="ITSM reporting service",
    description="The suite's event log, projections and service reports (ISO/IEC 20000-1 6.2).",
    metadata=metadata,
    handlers=worker.HANDLERS,
    periodic=worker.PERIODIC,
    batch_handler=worker.on_events,
)


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    app = build_app(SPEC, settings or ReportingSettings(), [*ROUTERS, dashboard.router])
    dashboard.mount_static_files(app)
    return app
