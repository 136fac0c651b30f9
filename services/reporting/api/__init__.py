"""Reporting's HTTP entry points: one router per area (the dashboard's static assets mount apart)."""

from services.reporting.api import (
    agreements,
    audits,
    dashboard,
    distribution,
    event_log,
    improvements,
    management_reviews,
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
    audits.router,
    management_reviews.router,
    dashboard.page_router,
    dashboard.router,
]
