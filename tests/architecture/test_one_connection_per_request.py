"""A request holds one database connection at a time (docs/architecture.md, "Connections").

A route takes the request's read connection (`ReadConnectionDep`, which its load-or-404
dependencies share) or a unit of work (`UnitOfWorkDep`), never both: the read connection is held
until the answer is sent, so the use case would wait for a second connection while the request
holds one. `shared.app.build_app` refuses such a route; these tests walk every route of every
service, and prove the refusal bites.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from uuid import UUID

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from services.supplier.api.deps import CurrentSupplier
from services.supplier.app import SPEC
from services.supplier.settings import SupplierSettings
from shared.app import ReadConnectionDep, UnitOfWorkDep, build_app, holding_two_connections

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "app.py").exists())
OPENS_ITS_OWN = re.compile(r"\.engine\b|\bunit_of_work\(|\breading\(|\bsession_factory\(")
"""A route that reached for the engine itself would escape the walk below."""


def _routes(service: str) -> list[APIRoute]:
    routers: list[APIRouter] = importlib.import_module(f"services.{service}.api").ROUTERS
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


@pytest.mark.parametrize("service", SERVICES)
def test_no_route_takes_the_read_connection_and_a_unit_of_work(service: str) -> None:
    routes = _routes(service)
    assert len(routes) > 5, f"the walk found too few routes of {service} to be checking them"
    assert holding_two_connections(routes) == []


@pytest.mark.parametrize("service", SERVICES)
def test_routes_get_their_connections_only_through_the_dependencies(service: str) -> None:
    modules = sorted((ROOT / "services" / service / "api").glob("*.py"))
    reaching = {p.name: m.group(0) for p in modules if (m := OPENS_ITS_OWN.search(p.read_text()))}
    assert reaching == {}, f"services/{service}/api opens connections outside ReadConnectionDep/UnitOfWorkDep"


def test_an_app_with_a_route_taking_both_is_refused_naming_the_route() -> None:
    bad = APIRouter()

    @bad.post("/direct")
    async def direct(conn: ReadConnectionDep, uow: UnitOfWorkDep) -> None: ...

    @bad.post("/through-a-loader/{supplier_id}")
    async def through_a_loader(supplier_id: UUID, supplier: CurrentSupplier, uow: UnitOfWorkDep) -> None: ...

    @bad.get("/reads-only/{supplier_id}")
    async def reads_only(supplier_id: UUID, supplier: CurrentSupplier, conn: ReadConnectionDep) -> None: ...

    assert holding_two_connections(bad.routes) == ["POST /direct", "POST /through-a-loader/{supplier_id}"]
    with pytest.raises(RuntimeError, match=r"never both.*POST /direct, POST /through-a-loader/\{supplier_id\}"):
        build_app(SPEC, SupplierSettings(environment="test"), [bad])
