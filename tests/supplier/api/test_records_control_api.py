"""Records control in the supplier service (ISO/IEC 20000-1 4.3.3), the same mechanism as the
incident service's: a closed dispute past its retention period is disposed of with its history and
logged; a dispute under legal hold and one not closed are kept; a second pass does nothing more."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from services.supplier.app import create_app
from services.supplier.settings import SupplierSettings
from services.supplier.store.tables import outbox, record_history
from shared.retention_store import DISPOSAL_JOB
from tests.conftest import running
from tests.infra import Servers, create_service_database
from tests.records_control import HOLDS, LOG, POLICIES, count, isolated_settings, ok
from tests.supplier.api.helpers import Auth, new_supplier

pytestmark = pytest.mark.asyncio(loop_scope="session")

DISPUTES = "/api/v1/disputes"


@pytest.fixture(scope="module")
async def database(servers: Servers) -> str:
    return await create_service_database(servers, "supplier", label="records")


@pytest.fixture
def app(database: str, servers: Servers, make_settings: Callable[..., Any]) -> FastAPI:
    return create_app(isolated_settings(SupplierSettings, database, servers, make_settings)())


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as client:
        yield client


async def _dispute(client: httpx.AsyncClient, auth: Auth, supplier_id: str, *, closed: bool) -> dict[str, Any]:
    manager = auth("supplier_manager")
    body = {"supplier_id": supplier_id, "title": "Overcharged", "owner": "olga"}
    dispute = await ok(await client.post(DISPUTES, json=body, headers=manager))
    if closed:
        url = f"{DISPUTES}/{dispute['id']}"
        await ok(await client.post(f"{url}/resolve", json={"resolution": "credit note"}, headers=manager))
        dispute = await ok(await client.post(f"{url}/close", json={}, headers=manager))
    return dict(dispute)


async def test_a_closed_dispute_past_retention_is_disposed_of_and_a_held_or_open_one_is_kept(
    app: FastAPI, client: httpx.AsyncClient, database: str, auth: Auth
) -> None:
    admin, auditor = auth("admin", subject="root"), auth("auditor")
    policy = {"retain_days": 7 * 365, "counted_from": "closed_at"}
    await ok(await client.put(f"{POLICIES}/dispute", json=policy, headers=admin))
    supplier = await new_supplier(client, auth)
    due, held = [await _dispute(client, auth, supplier["id"], closed=True) for _ in range(2)]
    still_open = await _dispute(client, auth, supplier["id"], closed=False)
    hold = {"record_type": "dispute", "record_id": held["id"], "reason": "arbitration pending"}
    await ok(await client.post(HOLDS, json=hold, headers=admin))
    history = select(func.count()).select_from(record_history).where(record_history.c.record_id == uuid.UUID(due["id"]))
    assert await count(database, history) > 0

    later = datetime.now(UTC) + timedelta(days=7 * 365 + 1)
    for _ in range(2):  # the second pass does nothing more
        await app.state.runtime.periodic.run_once(DISPOSAL_JOB, now=later)

    assert (await client.get(f"{DISPUTES}/{due['id']}", headers=admin)).status_code == 404
    assert await count(database, history) == 0
    for kept in (held, still_open):
        assert (await client.get(f"{DISPUTES}/{kept['id']}", headers=admin)).status_code == 200
    log = await ok(await client.get(LOG, headers=auditor))
    assert [(i["record_type"], i["number"], i["policy_version"]) for i in log["items"]] == [
        ("dispute", due["number"], 1)
    ]
    disposed = select(func.count()).where(outbox.c.routing_key == "record.disposed.v1")
    assert await count(database, disposed) == 1
