"""The supplier API in process, against the run's PostgreSQL and RabbitMQ."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.supplier.app import create_app
from services.supplier.domain.suppliers import RiskRating, Supplier, SupplierCategory, SupplierStatus
from services.supplier.settings import SupplierSettings
from services.supplier.store.suppliers import SupplierRepository
from services.supplier.store.tables import outbox, supplier
from shared.db import create_engine
from shared.errors import Conflict
from shared.events.supplier import SupplierCreated
from tests.conftest import running
from tests.infra import outbox_events, row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

URL = "/api/v1/suppliers"
Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def supplier_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("supplier"))


@pytest.fixture
async def client(supplier_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(SupplierSettings, supplier_db))) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


async def _create(client: httpx.AsyncClient, auth: Auth, **body: Any) -> httpx.Response:
    return await client.post(
        URL, json={"name": unique("Supplier"), "category": "software", **body}, headers=auth("supplier_manager")
    )


async def test_a_supplier_is_registered_with_defaults_and_read_back_as_written(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    name = unique("Acme Cloud")
    created = await client.post(URL, json={"name": name, "category": "cloud"}, headers=auth("supplier_manager"))
    assert created.status_code == 201, created.text
    read = created.json()
    assert re.fullmatch(r"SUP\d{7}", read["number"])
    assert (read["name"], read["status"], read["risk_rating"]) == (name, "active", "medium")
    assert (read["supplier_manager"], read["contact_email"], read["version"]) == (None, None, 1)
    assert created.headers["location"] == f"{URL}/{read['id']}"
    assert created.headers["etag"] == 'W/"1"'

    fetched = await client.get(created.headers["location"], headers=auth("auditor"))
    assert fetched.status_code == 200
    assert fetched.headers["etag"] == 'W/"1"'
    assert fetched.json() == read


async def test_every_field_given_is_kept(client: httpx.AsyncClient, auth: Auth) -> None:
    body = {
        "name": unique("Fibre Co"),
        "category": "network",
        "status": "onboarding",
        "risk_rating": "high",
        "supplier_manager": "bob",
        "contact_email": "noc@fibre.example",
    }
    r = await client.post(URL, json=body, headers=auth("supplier_manager"))
    assert r.status_code == 201, r.text
    fetched = (await client.get(r.headers["location"], headers=auth("agent"))).json()
    assert {k: fetched[k] for k in body} == body


@pytest.mark.parametrize(("role", "status"), [("supplier_manager", 201), ("admin", 201), ("change_manager", 403)])
async def test_only_supplier_managers_register_suppliers(
    client: httpx.AsyncClient, auth: Auth, role: str, status: int
) -> None:
    r = await client.post(URL, json={"name": unique("Who May"), "category": "other"}, headers=auth(role))
    assert r.status_code == status, r.text


@pytest.mark.parametrize("same", [str.upper, str.lower, lambda n: "  " + n.replace(" ", "   ")])
async def test_a_name_taken_ignoring_case_and_spacing_is_a_409_and_writes_nothing(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str, same: Callable[[str], str]
) -> None:
    name = unique("Globex Hosting")
    first = (await _create(client, auth, name=name)).json()
    before = await row_counts(supplier_db, supplier, outbox)
    r = await _create(client, auth, name=same(name), category="cloud")
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["supplier_id"] == first["id"]
    assert first["number"] in problem["detail"]
    assert await row_counts(supplier_db, supplier, outbox) == before


async def test_the_database_refuses_a_duplicate_name_that_slipped_past_the_check(supplier_db: str) -> None:
    name = unique("Raced Ltd")

    def registered(as_written: str) -> Supplier:
        return Supplier.register(
            supplier_id=uuid.uuid4(),
            number=unique("SUP")[:20],
            name=as_written,
            category=SupplierCategory.OTHER,
            status=SupplierStatus.ACTIVE,
            risk_rating=RiskRating.LOW,
            supplier_manager=None,
            contact_email=None,
            now=datetime.now(UTC),
        )

    engine = create_engine(supplier_db)
    try:
        async with engine.connect() as conn:
            suppliers = SupplierRepository(conn)
            await suppliers.add(registered(name))
            with pytest.raises(Conflict):
                await suppliers.add(registered(name.upper()))
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_list_filters_by_status_and_category(client: httpx.AsyncClient, auth: Auth) -> None:
    suspended = (await _create(client, auth, category="facilities", status="suspended")).json()
    await _create(client, auth, category="facilities", status="active")
    await _create(client, auth, category="hardware", status="suspended")

    def get(**params: Any) -> Any:
        return client.get(URL, params={"limit": 200, **params}, headers=auth("auditor"))

    both = (await get(status="suspended", category="facilities")).json()
    assert {(i["status"], i["category"]) for i in both["items"]} == {("suspended", "facilities")}
    assert suspended in both["items"]
    assert {i["status"] for i in (await get(status="active")).json()["items"]} == {"active"}
    assert {i["category"] for i in (await get(category="hardware")).json()["items"]} == {"hardware"}
    assert (await get(status="exited")).json()["total"] == 0


async def test_pages_cover_the_list_once_newest_first(client: httpx.AsyncClient, auth: Auth) -> None:
    for _ in range(3):
        await _create(client, auth)
    whole = (await client.get(URL, params={"limit": 200}, headers=auth("auditor"))).json()
    assert [i["created_at"] for i in whole["items"]] == sorted((i["created_at"] for i in whole["items"]), reverse=True)
    paged: list[str] = []
    for offset in range(0, whole["total"], 2):
        page = (await client.get(URL, params={"limit": 2, "offset": offset}, headers=auth("auditor"))).json()
        assert page["total"] == whole["total"] and page["offset"] == offset and len(page["items"]) <= 2
        paged += [i["id"] for i in page["items"]]
    assert paged == [i["id"] for i in whole["items"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "software"}, "name"),
        ({"name": "x" * 201, "category": "software"}, "name"),
        ({"name": "x", "category": "catering"}, "category"),
        ({"name": "x", "category": "software", "status": "prospective"}, "status"),
        ({"name": "x", "category": "software", "risk_rating": "extreme"}, "risk_rating"),
        ({"name": "x", "category": "software", "contact_email": "not-an-email"}, "contact_email"),
        ({"name": "x", "category": "software", "contact_email": "noc@localhost"}, "contact_email"),
        ({"name": "x", "category": "software", "contact_email": "n oc@fibre.example"}, "contact_email"),
    ],
)
async def test_invalid_input_is_a_422_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str, body: dict[str, Any], field: str
) -> None:
    before = await row_counts(supplier_db, supplier, outbox)
    r = await client.post(URL, json=body, headers=auth("supplier_manager"))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert await row_counts(supplier_db, supplier, outbox) == before


async def test_a_create_writes_exactly_one_supplier_created_event(
    client: httpx.AsyncClient, auth: Auth, supplier_db: str
) -> None:
    suppliers_before, events_before = await row_counts(supplier_db, supplier, outbox)
    read = (await _create(client, auth, category="services", status="onboarding")).json()
    assert await row_counts(supplier_db, supplier, outbox) == (suppliers_before + 1, events_before + 1)
    [event] = await outbox_events(supplier_db, outbox, read["id"])
    assert event.type == "itsm.supplier.created.v1"
    data = event.data_as(SupplierCreated)
    assert (str(data.supplier_id), data.number, data.name, data.category, data.status) == (
        read["id"],
        read["number"],
        read["name"],
        "services",
        "onboarding",
    )
