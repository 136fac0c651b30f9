"""Input that cannot hurt the supplier service: huge offsets and a body that is not JSON are 4xx
problems naming the field, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.supplier.app import create_app
from services.supplier.settings import SupplierSettings
from services.supplier.store.tables import supplier
from tests.conftest import running
from tests.infra import row_counts
from tests.problems import assert_problem_naming

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]


@pytest.fixture(scope="module")
async def supplier_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("supplier"))


@pytest.fixture
async def client(supplier_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(make_settings(SupplierSettings, supplier_db, run_worker=False))) as client:
        yield client


@pytest.mark.parametrize("path", ["/api/v1/suppliers", "/api/v1/contracts", "/api/v1/disputes"])
async def test_an_offset_past_64_bits_is_a_422_naming_it(client: httpx.AsyncClient, auth: Auth, path: str) -> None:
    r = await client.get(path, params={"offset": 2**63}, headers=auth("auditor"))
    assert_problem_naming(r, 422, "offset")


async def test_a_text_body_on_a_json_route_is_415(client: httpx.AsyncClient, auth: Auth, supplier_db: str) -> None:
    before = await row_counts(supplier_db, supplier)
    r = await client.post(
        "/api/v1/suppliers",
        content=b'{"name": "Acme Hosting", "category": "cloud"}',
        headers={**auth("supplier_manager"), "content-type": "text/plain"},
    )
    assert_problem_naming(r, 415, "header.content-type")
    assert await row_counts(supplier_db, supplier) == before
