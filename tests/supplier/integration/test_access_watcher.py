"""The access watcher with several replicas on one PostgreSQL database: two watchers (two
PeriodicRunner instances with their own engines, as two worker processes) run the same pass at the
same time, then again after a "restart"; the review falling due and the expiry are each raised
exactly once, and a review brings a new date that is watched again."""

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
from services.supplier.store.tables import access_notice, outbox
from services.supplier.usecases.access import JOB_NAME
from shared.db import create_engine
from shared.events.supplier import SupplierAccessExpired, SupplierAccessReviewDue
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
    result: SupplierSettings = make_settings(SupplierSettings, supplier_db, run_worker=False)
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


async def replicas_pass(settings: SupplierSettings, now: datetime, *, rounds: int = 2) -> None:
    """Two replicas at once, `rounds` times, then a restarted one."""
    first, second = Watcher(settings), Watcher(settings)
    try:
        for _ in range(rounds):
            await asyncio.gather(first.pass_at(now), second.pass_at(now))
    finally:
        await first.close()
        await second.close()
    restarted = Watcher(settings)
    try:
        await restarted.pass_at(now)
    finally:
        await restarted.close()


async def granted_access(client: httpx.AsyncClient, auth: Auth, *, expires_in_days: int, interval: int) -> Any:
    manager = auth("supplier_manager")
    supplier = await new_supplier(client, auth)
    contract = await new_contract(client, auth, supplier["id"])
    assert (await client.post(f"/api/v1/contracts/{contract['id']}/activate", headers=manager)).status_code == 200
    body = {
        "contract_id": contract["id"],
        "system": "HR portal",
        "access_type": "admin",
        "classification": "restricted",
        "purpose": "operates the HR portal",
        "holders": ["ops@vendor.example"],
        "owner": "olga",
        "expires_on": (datetime.now(UTC) + timedelta(days=expires_in_days)).isoformat(),
        "review_interval_days": interval,
    }
    r = await client.post(f"/api/v1/suppliers/{supplier['id']}/access-grants", json=body, headers=manager)
    assert r.status_code == 201, r.text
    granted = await client.post(f"/api/v1/access-grants/{r.json()['id']}/grant", headers=manager)
    assert granted.status_code == 200, granted.text
    return granted.json()


async def _types(db: str, grant_id: str) -> list[str]:
    return [e.type.removeprefix("itsm.") for e in await outbox_events(db, outbox, grant_id)]


async def test_review_due_and_expiry_are_each_raised_once_whatever_the_replicas_and_restarts(
    client: httpx.AsyncClient, auth: Auth, settings: SupplierSettings, supplier_db: str
) -> None:
    grant = await granted_access(client, auth, expires_in_days=200, interval=90)
    later = await granted_access(client, auth, expires_in_days=400, interval=180)
    review_date = datetime.fromisoformat(grant["next_review_on"])

    await replicas_pass(settings, review_date - timedelta(minutes=1))  # not yet due
    assert await _types(supplier_db, grant["id"]) == ["supplier.access_granted.v1"]

    await replicas_pass(settings, review_date + timedelta(days=1))
    assert await _types(supplier_db, grant["id"]) == ["supplier.access_granted.v1", "supplier.access_review_due.v1"]
    assert await _types(supplier_db, later["id"]) == ["supplier.access_granted.v1"]  # its review is 180 days away
    due = (await outbox_events(supplier_db, outbox, grant["id"]))[-1].data_as(SupplierAccessReviewDue)
    assert (due.status, due.actor, due.next_review_on) == ("under_review", "access-watcher", review_date)
    read = (await client.get(f"/api/v1/access-grants/{grant['id']}", headers=auth("auditor"))).json()
    assert (read["status"], read["version"]) == ("under_review", 3)

    expiry = datetime.fromisoformat(grant["expires_on"])
    await replicas_pass(settings, expiry + timedelta(days=1))
    types = await _types(supplier_db, grant["id"])
    assert types == ["supplier.access_granted.v1", "supplier.access_review_due.v1", "supplier.access_expired.v1"]
    expired = (await outbox_events(supplier_db, outbox, grant["id"]))[-1].data_as(SupplierAccessExpired)
    assert (expired.status, expired.expires_on) == ("expired", expiry)
    read = (await client.get(f"/api/v1/access-grants/{grant['id']}", headers=auth("auditor"))).json()
    assert (read["status"], read["allowed_actions"]) == ("expired", [])
    # The other grant, past its own review date by then, was put under review once.
    assert await _types(supplier_db, later["id"]) == ["supplier.access_granted.v1", "supplier.access_review_due.v1"]

    engine = create_engine(supplier_db)
    try:
        async with engine.connect() as conn:
            query = select(access_notice.c.kind).where(access_notice.c.grant_id.in_([grant["id"], later["id"]]))
            assert sorted((await conn.execute(query)).scalars()) == ["expired", "review_due", "review_due"]
    finally:
        await engine.dispose()


async def test_a_reviewed_grant_is_watched_again_for_its_next_review(
    client: httpx.AsyncClient, auth: Auth, settings: SupplierSettings, supplier_db: str
) -> None:
    grant = await granted_access(client, auth, expires_in_days=365, interval=30)
    first_due = datetime.fromisoformat(grant["next_review_on"]) + timedelta(hours=1)
    await replicas_pass(settings, first_due, rounds=1)
    kept = await client.post(
        f"/api/v1/access-grants/{grant['id']}/review",
        json={"outcome": "keep", "notes": "still operating the portal"},
        headers=auth("supplier_manager"),
    )
    assert kept.json()["status"] == "granted", kept.text
    next_review = datetime.fromisoformat(kept.json()["next_review_on"])
    reviewed_on = datetime.fromisoformat(kept.json()["last_reviewed_on"])
    assert next_review == reviewed_on + timedelta(days=30)
    assert next_review > datetime.fromisoformat(grant["next_review_on"])  # a new date: a new notice key
    await replicas_pass(settings, next_review + timedelta(hours=1))
    assert await _types(supplier_db, grant["id"]) == [
        "supplier.access_granted.v1",
        "supplier.access_review_due.v1",
        "supplier.access_review_due.v1",
    ]
