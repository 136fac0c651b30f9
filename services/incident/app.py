"""Incident service composition root: `uvicorn --factory services.incident.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.incident import worker
from services.incident.api import ROUTERS
from services.incident.settings import IncidentSettings
from services.incident.store.tables import metadata
from shared.app import build_app
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="incident",
    title="ITSM incident service",
    description="Incidents, service requests, problems and known errors, SLA clocks (ISO/IEC 20000-1 8.1, 8.2).",
    metadata=metadata,
    handlers=worker.HANDLERS,
    periodic=worker.PERIODIC,
    keys_claimed_by_use_case=("/api/v1/incidents",),
)


def create_app(settings: IncidentSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or IncidentSettings(), ROUTERS)
