"""Reporting's HTTP entry points: one router per area (the dashboard's static assets mount apart)."""

from services.reporting.api import (
    agreements,
    dashboard,
    distribution,
    event_log,
    improvements,
    projections,
    reports,
    runs,
    service_reviews,
)

ROUTERS = [
    event_log.router,
    reports.router,
    projections.router,
    agreements.router,
    runs.router,
    distribution.router,
    service_reviews.router,
    improvements.router,
    dashboard.page_router,
    dashboard.router,
]
