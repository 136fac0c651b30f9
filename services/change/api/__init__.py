"""The change service's routes, one module per area; `ROUTERS` is what app.py mounts, in this order."""

from __future__ import annotations

from services.change.api import (
    cab,
    changes,
    continuity,
    costs,
    deployments,
    design,
    evidence,
    gate,
    maintenance,
    pipeline,
    records_control,
    releases,
    schedule,
    templates,
)

ROUTERS = [
    changes.router,
    cab.router,
    design.router,
    continuity.router,
    costs.router,
    schedule.router,
    schedule.schedule_router,
    maintenance.schedule_router,
    templates.router,
    releases.router,
    deployments.router,
    pipeline.router,
    gate.router,
    evidence.router,
    records_control.router,
]
