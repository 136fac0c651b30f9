"""The contract expiry watcher with several replicas on one PostgreSQL database: two watchers
(two PeriodicRunner instances with their own engines, as two worker processes) run the same pass
at the same time, then a third starts after a "restart"; each event is raised exactly once. A
contract that expires takes the open access grants resting on it along."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.supplier.app import SPEC, create_app
from services.supplier.settings import SupplierSettings
from services.supplier.store.tables import contract_notice, outbox
from services.supplier.usecases.contracts import JOB_NAME
from shared.db import create_engine
from shared.events.supplier import ContractExpired, ContractExpiring, SupplierAccessRevoked
from shared.periodic import PeriodicRunner
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.infra import outbox_events
from tests.supplier.api.helpers import Auth, new_contract, new_supplier

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def supplier_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("supplier"))


@pytest.fixture
async def settings(supplier_db: str, make_settings: Callable[..., Any]) -> SupplierSettings:
    # No worker in the API app: only the watchers under test run the job.
    result: SupplierSettings = make_settings(
        SupplierSettings, supplier_db, run_worker=False, contract_expiry_warning_days=30
    )
    return result


@pytest.fixture
async def client(settings: SupplierSettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as client:
        yield client


class Watcher:
    """One replica's worker: its own engine and runner (what a restart replaces)."""

    def __init__(self, settings: SupplierSettings) -> None:
        self.engine = create_engine(settings.database_url)
        self.runner = PeriodicRunner(
            SPEC.periodic,
            unit_of_work=lambda: UnitOfWork(self.engine, outbox, source="/itsm/supplier"),
            engine=self.engine,
            settings=settings,
        )

    async def pass_at(self, now: datetime) -> None:
        await self.runner.run_once(JOB_NAME, now=now)

    async def close(self) -> None:
        await self.engine.dispose()


async def _types(db: str, contract_id: str) -> list[str]:
    return [e.type.removeprefix("itsm.") for e in await outbox_events(db, outbox, contract_id)]


async def test_two_watchers_raise_each_event_once_and_a_restart_raises_nothing_again(
    client: httpx.AsyncClient, auth: Auth, settings: SupplierSettings, supplier_db: str
) -> None:
    now = datetime.now(UTC)
    supplier = await new_supplier(client, auth)
    manager = auth("supplier_manager")
    # Notice deadline in 10 days (within the 30-day warning); the other's is 170 days away.
    near = await new_contract(client, auth, supplier["id"], ends_on=(now + timedelta(days=100)).isoformat())
    far = await new_contract(
        client, auth, supplier["id"], ends_on=(now + timedelta(days=200)).isoformat(), notice_period_days=30
    )
    for c in (near, far):
        assert (await client.post(f"/api/v1/contracts/{c['id']}/activate", headers=manager)).status_code == 200

    first, second = Watcher(settings), Watcher(settings)
    try:
        for _ in range(3):  # several rounds of both at once
            await asyncio.gather(first.pass_at(now), second.pass_at(now))
    finally:
        await first.close()
        await second.close()
    assert await _types(supplier_db, near["id"]) == [
        "contract.created.v1",
        "contract.activated.v1",
        "contract.expiring.v1",
    ]
    assert await _types(supplier_db, far["id"]) == ["contract.created.v1", "contract.activated.v1"]
    expiring = (await outbox_events(supplier_db, outbox, near["id"]))[-1].data_as(ContractExpiring)
    assert expiring.notice_deadline == datetime.fromisoformat(near["ends_on"]) - timedelta(days=90)
    read = (await client.get(f"/api/v1/contracts/{near['id']}", headers=auth("auditor"))).json()
    assert (read["status"], read["version"]) == ("expiring", 3)

    restarted = Watcher(settings)
    try:
        await restarted.pass_at(now)
    finally:
        await restarted.close()
    assert len(await _types(supplier_db, near["id"])) == 3

    # Past both ends: each contract expires once, whatever the number of watchers and restarts.
    later = now + timedelta(days=250)
    first, second = Watcher(settings), Watcher(settings)
    try:
        await asyncio.gather(first.pass_at(later), second.pass_at(later))
    finally:
        await first.close()
        await second.close()
    restarted = Watcher(settings)
    try:
        await restarted.pass_at(later)
    finally:
        await restarted.close()
    assert (await _types(supplier_db, near["id"]))[3:] == ["contract.expired.v1"]
    assert (await _types(supplier_db, far["id"]))[2:] == ["contract.expired.v1"]
    expired = (await outbox_events(supplier_db, outbox, far["id"]))[-1].data_as(ContractExpired)
    assert (expired.status, expired.actor) == ("expired", "expiry-watcher")

    engine = create_engine(supplier_db)
    try:
        async with engine.connect() as conn:
            kinds = (
                await conn.execute(
                    select(contract_notice.c.kind).where(contract_notice.c.contract_id.in_([near["id"], far["id"]]))
                )
            ).scalars()
            assert sorted(kinds) == ["expired", "expired", "expiring"]
    finally:
        await engine.dispose()


async def test_a_renewed_contract_is_watched_again_for_its_new_deadline(
    client: httpx.AsyncClient, auth: Auth, settings: SupplierSettings, supplier_db: str
) -> None:
    now = datetime.now(UTC)
    supplier = await new_supplier(client, auth)
    manager = auth("supplier_manager")
    item = await new_contract(client, auth, supplier["id"], ends_on=(now + timedelta(days=100)).isoformat())
    base = f"/api/v1/contracts/{item['id']}"
    await client.post(f"{base}/activate", headers=manager)
    watcher = Watcher(settings)
    try:
        await watcher.pass_at(now)
        renewed = await client.post(
            f"{base}/renew", json={"ends_on": (now + timedelta(days=465)).isoformat()}, headers=manager
        )
        assert renewed.json()["status"] == "active", renewed.text
        await watcher.pass_at(now)  # the new deadline is a year away: nothing
        await watcher.pass_at(now + timedelta(days=345))  # within 30 days of the new deadline
        await watcher.pass_at(now + timedelta(days=345))
    finally:
        await watcher.close()
    assert await _types(supplier_db, item["id"]) == [
        "contract.created.v1",
        "contract.activated.v1",
        "contract.expiring.v1",
        "contract.renewed.v1",
        "contract.expiring.v1",
    ]


async def _grant(client: httpx.AsyncClient, auth: Auth, supplier_id: str, contract_id: str, *, grant: bool) -> str:
    manager = auth("supplier_manager", subject="olga")
    body = {
        "contract_id": contract_id,
        "system": "payroll database",
        "access_type": "remote_support",
        "classification": "confidential",
        "purpose": "Third-line support of the payroll system",
        "holders": ["anna@vendor.example"],
        "owner": "olga",
        "expires_on": (datetime.now(UTC) + timedelta(days=365)).isoformat(),
        "review_interval_days": 300,
    }
    r = await client.post(f"/api/v1/suppliers/{supplier_id}/access-grants", json=body, headers=manager)
    assert r.status_code == 201, r.text
    grant_id: str = r.json()["id"]
    if grant:
        assert (await client.post(f"/api/v1/access-grants/{grant_id}/grant", headers=manager)).status_code == 200
    return grant_id


async def test_an_expired_contract_revokes_the_open_access_resting_on_it_once(
    client: httpx.AsyncClient, auth: Auth, settings: SupplierSettings, supplier_db: str
) -> None:
    now = datetime.now(UTC)
    supplier = await new_supplier(client, auth)
    manager = auth("supplier_manager")
    ending = await new_contract(client, auth, supplier["id"], ends_on=(now + timedelta(days=100)).isoformat())
    lasting = await new_contract(client, auth, supplier["id"], ends_on=(now + timedelta(days=900)).isoformat())
    for c in (ending, lasting):
        assert (await client.post(f"/api/v1/contracts/{c['id']}/activate", headers=manager)).status_code == 200
    asked = await _grant(client, auth, supplier["id"], ending["id"], grant=False)
    held = await _grant(client, auth, supplier["id"], ending["id"], grant=True)
    elsewhere = await _grant(client, auth, supplier["id"], lasting["id"], grant=True)

    later = now + timedelta(days=120)  # past the one contract's end, before any grant's review or expiry
    first, second = Watcher(settings), Watcher(settings)
    try:
        await asyncio.gather(first.pass_at(later), second.pass_at(later))
        await first.pass_at(later)
    finally:
        await first.close()
        await second.close()
    assert (await _types(supplier_db, ending["id"]))[-1] == "contract.expired.v1"
    reason = f"contract {ending['number']} expired"
    auditor = auth("auditor")
    for grant_id in (asked, held):
        read = (await client.get(f"/api/v1/access-grants/{grant_id}", headers=auditor)).json()
        assert (read["status"], read["ended_reason"]) == ("revoked", reason)
        history = (await client.get(f"/api/v1/access-grants/{grant_id}/history", headers=auditor)).json()
        [entry] = [h for h in history if h["field"] == "status" and h["new"] == "revoked"]
        assert (entry["action"], entry["actor"], entry["reason"]) == ("revoke", "expiry-watcher", reason)
        revoked = [
            e for e in await outbox_events(supplier_db, outbox, grant_id) if e.type.endswith("access_revoked.v1")
        ]
        [data] = [e.data_as(SupplierAccessRevoked) for e in revoked]
        assert (data.actor, data.reason, data.owner) == ("expiry-watcher", reason, "olga")
    kept = (await client.get(f"/api/v1/access-grants/{elsewhere}", headers=auditor)).json()
    assert (kept["status"], kept["version"]) == ("granted", 2)
