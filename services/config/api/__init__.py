"""The CMDB's HTTP API, one router per area (routes are thin: validate, call a use case or a read, answer)."""

from services.config.api import (
    agreements,
    audit,
    baselines,
    budgets,
    bulk,
    capacity,
    catalogue,
    change_control,
    continuity,
    costs,
    customers,
    discovery,
    impact,
    items,
    relationships,
    types,
)

ROUTERS = [
    types.router,
    items.router,
    change_control.router,
    relationships.router,
    impact.router,
    discovery.router,
    baselines.router,
    audit.router,
    catalogue.router,
    bulk.router,
    capacity.router,
    continuity.router,
    customers.router,
    agreements.router,
    budgets.router,
    costs.router,
]
"""What app.py mounts, in the order the routes were declared."""
