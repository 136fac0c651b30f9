"""Reporting's HTTP entry points: one router per area (the dashboard page and its stream mount apart)."""

from services.reporting.api import agreements, distribution, event_log, projections, reports, runs

ROUTERS = [event_log.router, reports.router, projections.router, agreements.router, runs.router, distribution.router]
