"""Incident service composition root: `uvicorn --factory services.incident.app:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from services.incident import api, api_alerts, api_problem, store, worker
from services.incident.requests import api as requests_api
from services.incident.settings import IncidentSettings
from services.incident.sla import api as sla_api
from shared.app import build_app
from shared.runtime import ServiceSpec

SPEC = ServiceSpec(
    name="incident",
    title="ITSM incident service",
    description="Incidents, service requests, problems and known errors, SLA clocks (ISO/IEC 20000-1 8.1, 8.2).",
    metadata=store.metadata,
    handlers=worker.HANDLERS,
    periodic=worker.PERIODIC,
)


def create_app(settings: IncidentSettings | None = None) -> FastAPI:
    routers = [api.router, api_problem.router, api_problem.known_errors_router, api_problem.incident_links_router]
    routers += [api_alerts.router, sla_api.router, requests_api.router]
    return build_app(SPEC, settings or IncidentSettings(), routers)
