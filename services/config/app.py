"""Configuration service composition root: `uvicorn --factory services.config.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.config import worker
from services.config.api import ROUTERS
from services.config.settings import ConfigSettings
from services.config.store.tables import metadata
from services.config.usecases.capacity import readiness_details
from shared.app import build_app
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="config",
    title="ITSM configuration service",
    description="Configuration items, their types and relationships: the CMDB (ISO/IEC 20000-1 9.1).",
    metadata=metadata,
    handlers=worker.HANDLERS,
    periodic=worker.PERIODIC,
    readiness_details=readiness_details,
    bulk_paths=("/api/v1/discovery/runs", "/api/v1/import/"),
)


def create_app(settings: ConfigSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or ConfigSettings(), ROUTERS)
