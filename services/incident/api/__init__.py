"""The incident service's HTTP routes, one module per area; `ROUTERS` is what app.py mounts, in order."""

from services.incident.api import (
    alerts,
    catalogue,
    complaints,
    evidence,
    incidents,
    known_errors,
    problems,
    records_control,
    requests,
    sla,
    surveys,
)

ROUTERS = [
    incidents.router,
    problems.router,
    known_errors.router,
    problems.incident_links_router,
    alerts.router,
    sla.router,
    catalogue.router,
    requests.router,
    complaints.router,
    surveys.router,
    surveys.campaigns_router,
    surveys.page_router,
    evidence.router,
    records_control.router,
]
