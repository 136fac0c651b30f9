"""`Idempotency-Key` is the same on every service's creates (incident and change have their own tests)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Table

from services.config.app import create_app as config_app
from services.config.settings import ConfigSettings
from services.config.store.tables import config_item
from services.supplier.app import create_app as supplier_app
from services.supplier.settings import SupplierSettings
from services.supplier.store.tables import supplier
from tests.conftest import running
from tests.infra import row_counts

pytestmark = pytest.mark.asyncio(loop_scope="session")

CASES = [
    (
        "config",
        config_app,
        ConfigSettings,
        config_item,
        "/api/v1/cis",
        "config_manager",
        {"name": "idem-db", "type": "server"},
    ),
    (
        "supplier",
        supplier_app,
        SupplierSettings,
        supplier,
        "/api/v1/suppliers",
        "supplier_manager",
        {"name": "Idem Cloud", "category": "cloud"},
    ),
]


@pytest.mark.parametrize(("service", "create_app", "settings_cls", "table", "url", "role", "body"), CASES)
async def test_a_retried_create_with_its_key_answers_the_first_response_and_stores_one_record(
    service: str,
    create_app: Callable[[Any], Any],
    settings_cls: type[Any],
    table: Table,
    url: str,
    role: str,
    body: dict[str, Any],
    service_database: Callable[[str], Any],
    make_settings: Callable[..., Any],
    auth: Callable[..., dict[str, str]],
) -> None:
    db = str(await service_database(service))
    body = {**body, "name": f"{body['name']}-{uuid.uuid4().hex[:6]}"}
    headers = {**auth(role), "Idempotency-Key": str(uuid.uuid4())}
    async with running(create_app(make_settings(settings_cls, db, run_worker=False))) as client:
        before = await row_counts(db, table)
        first = await client.post(url, json=body, headers=headers)
        again = await client.post(url, json=body, headers=headers)
        assert first.status_code == again.status_code == 201, again.text
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert await row_counts(db, table) == (before[0] + 1,)
        other = await client.post(url, json={**body, "name": "another"}, headers=headers)
        assert other.status_code == 422
        assert other.json()["errors"][0]["field"] == "Idempotency-Key"
