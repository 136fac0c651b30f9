"""Every route of every service is governed by its service's authorisation table: it has a row (or is
declared public), its router runs the table before anything else, and no row names a route that is
gone. A route added without a row fails here, not in production."""

from __future__ import annotations

import importlib

import pytest

from shared.authorization import COLUMNS, Policy, unguarded

SERVICES = ["incident", "change", "config", "supplier", "reporting", "notify"]
TABLE_NOT_YET_WHOLE: set[str] = set()
"""Services whose table does not yet cover every route (strict: a service leaves the set when it does)."""


@pytest.mark.parametrize(
    "service",
    [
        pytest.param(s, marks=pytest.mark.xfail(strict=True, reason="table not whole yet"))
        if s in TABLE_NOT_YET_WHOLE
        else s
        for s in SERVICES
    ],
)
def test_every_route_runs_its_services_table(service: str) -> None:
    api = importlib.import_module(f"services.{service}.api")
    policy: Policy = importlib.import_module(f"services.{service}.api.deps").POLICY
    routes = [route for router in api.ROUTERS for route in router.routes]
    assert unguarded(routes, policy) == []


def test_the_check_names_a_route_without_a_row_and_a_row_without_a_route() -> None:
    from services.incident.api import ROUTERS
    from services.incident.api.deps import POLICY

    routes = [route for router in ROUTERS for route in router.routes]
    table = {**POLICY.table, "incidents.no_such_route": POLICY.table["incidents.get_incident"]}
    del table["incidents.get_incident"]
    problems = unguarded(routes, Policy("incident", table, POLICY.ownerships))
    assert any(p.startswith("incidents.get_incident (/api/v1/incidents/{incident_id}) has no row") for p in problems)
    assert "row incidents.no_such_route names no route" in problems


@pytest.mark.parametrize("service", SERVICES)
def test_every_row_names_a_rule_for_every_role(service: str) -> None:
    """A row that left a role out would leave its answer to a default nobody reads in the table."""
    policy: Policy = importlib.import_module(f"services.{service}.api.deps").POLICY
    assert [op for op, cells in policy.table.items() if sorted(cells) != sorted(COLUMNS)] == []
