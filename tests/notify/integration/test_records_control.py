"""Records control in the notify service (ISO/IEC 20000-1 4.3.3), the same mechanism as the
incident, supplier and change services': a sent and a failed e-mail message past their retention
period are disposed of and logged; a held one and a queued (pending) one are kept. A delivered
webhook delivery goes with its attempts (the delivery log); a pending one is kept. A released hold
lets its message go. Only admin manages policies and holds; the auditor reads them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, insert, select

from services.notify.app import create_app
from services.notify.settings import NotifySettings
from services.notify.store.tables import (
    mail_message,
    notification_rule,
    outbox,
    webhook_attempt,
    webhook_delivery,
    webhook_subscription,
)
from shared.db import create_engine
from shared.retention_store import DISPOSAL_JOB
from tests.conftest import running
from tests.infra import Servers, create_service_database
from tests.records_control import HOLDS, LOG, POLICIES, count, isolated_settings, ok

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]
LATER = timedelta(days=31)


@pytest.fixture(scope="module")
async def database(servers: Servers) -> str:
    return await create_service_database(servers, "notify", label="records")


@pytest.fixture
def app(database: str, servers: Servers, make_settings: Callable[..., Any]) -> FastAPI:
    return create_app(isolated_settings(NotifySettings, database, servers, make_settings)())


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as client:
        yield client


async def _seed(database: str, statuses: dict[str, str], deliveries: dict[str, str]) -> dict[str, uuid.UUID]:
    """A disabled rule with one message per `statuses` entry, a disabled subscription with one
    delivery (and one attempt) per `deliveries` entry. Every one was tried once; a pending one
    waits for its retry (due only in a year), so its timestamps alone would let it go."""
    now, ids = datetime.now(UTC), {}
    rule_id, subscription_id = uuid.uuid4(), uuid.uuid4()
    engine = create_engine(database)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(notification_rule).values(
                    id=rule_id,
                    name=f"records {rule_id}",
                    event_pattern="incident.resolved.v1",
                    data_filter={},
                    template="incident_resolved",
                    recipient_fields=[],
                    enabled=False,
                    created_by="root",
                    created_at=now,
                )
            )
            for name, status in statuses.items():
                ids[name] = uuid.uuid4()
                done = status in ("sent", "failed")
                await conn.execute(
                    insert(mail_message).values(
                        id=ids[name],
                        rule_id=rule_id,
                        event_id=uuid.uuid4(),
                        event_type="incident.resolved.v1",
                        recipient=f"{name}@example.test",
                        subject="Resolved",
                        text_body="done",
                        html_body="<p>done</p>",
                        status=status,
                        attempts=1,
                        next_attempt_at=None if done else now + timedelta(days=365),
                        last_attempt_at=now,
                        sent_at=now if status == "sent" else None,
                        created_at=now,
                    )
                )
            await conn.execute(
                insert(webhook_subscription).values(
                    id=subscription_id,
                    url="https://hooks.example.test/in",
                    event_pattern="#",
                    data_filter={},
                    description="records",
                    status="disabled",
                    secret="whsec_records",
                    created_by="root",
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )
            for name, status in deliveries.items():
                ids[name] = uuid.uuid4()
                done = status == "delivered"
                await conn.execute(
                    insert(webhook_delivery).values(
                        id=ids[name],
                        subscription_id=subscription_id,
                        event_id=uuid.uuid4(),
                        event_type="incident.resolved.v1",
                        event_time=now,
                        ordering_key=name,
                        replay=False,
                        status=status,
                        attempts=1,
                        next_attempt_at=None if done else now + timedelta(days=365),
                        last_attempt_at=now,
                        delivered_at=now if done else None,
                        created_at=now,
                    )
                )
                await conn.execute(
                    insert(webhook_attempt).values(
                        id=uuid.uuid4(), delivery_id=ids[name], attempted_at=now, duration_ms=5, status_code=500
                    )
                )
    finally:
        await engine.dispose()
    return ids


def _message(record_id: uuid.UUID) -> Any:
    return select(func.count()).select_from(mail_message).where(mail_message.c.id == record_id)


def _delivery(record_id: uuid.UUID) -> Any:
    return select(func.count()).select_from(webhook_delivery).where(webhook_delivery.c.id == record_id)


def _attempts(record_id: uuid.UUID) -> Any:
    return select(func.count()).select_from(webhook_attempt).where(webhook_attempt.c.delivery_id == record_id)


async def test_a_sent_or_failed_message_past_retention_is_disposed_of_and_a_held_or_queued_one_is_kept(
    app: FastAPI, client: httpx.AsyncClient, database: str, auth: Auth
) -> None:
    admin, auditor = auth("admin", subject="root"), auth("auditor", subject="audrey")
    policy_url = f"{POLICIES}/mail_message"
    wrong = await client.put(policy_url, json={"retain_days": 30, "counted_from": "closed_at"}, headers=admin)
    assert wrong.status_code == 422 and "counted_from" in wrong.text
    policy = {"retain_days": 30, "counted_from": "last_attempt_at"}
    written = await ok(await client.put(policy_url, json=policy, headers=admin))
    assert (written["record_type"], written["version"], written["updated_by"]) == ("mail_message", 1, "root")
    ids = await _seed(database, {"sent": "sent", "failed": "failed", "held": "sent", "queued": "pending"}, {})
    hold = await ok(
        await client.post(
            HOLDS,
            json={"record_type": "mail_message", "record_id": str(ids["held"]), "reason": "complaint"},
            headers=admin,
        )
    )

    later = datetime.now(UTC) + LATER
    for _ in range(2):  # the second pass does nothing more
        await app.state.runtime.periodic.run_once(DISPOSAL_JOB, now=later)

    for gone in ("sent", "failed"):
        assert await count(database, _message(ids[gone])) == 0, gone
    for kept in ("held", "queued"):
        assert await count(database, _message(ids[kept])) == 1, kept
    log = await ok(await client.get(LOG, params={"record_type": "mail_message"}, headers=auditor))
    assert {(i["record_id"], i["policy_version"], i["retain_days"], i["action"]) for i in log["items"]} == {
        (str(ids["sent"]), 1, 30, "deleted"),
        (str(ids["failed"]), 1, 30, "deleted"),
    }
    disposed = select(func.count()).where(
        outbox.c.routing_key == "record.disposed.v1", outbox.c.subject.in_([str(ids["sent"]), str(ids["failed"])])
    )
    assert await count(database, disposed) == 2

    released = await ok(await client.post(f"{HOLDS}/{hold['id']}/release", json={"reason": "settled"}, headers=admin))
    assert released["active"] is False
    await app.state.runtime.periodic.run_once(DISPOSAL_JOB, now=later)
    assert await count(database, _message(ids["held"])) == 0
    assert await count(database, _message(ids["queued"])) == 1
    assert (await ok(await client.get(LOG, params={"record_type": "mail_message"}, headers=auditor)))["total"] == 3


async def test_a_delivered_webhook_delivery_goes_with_its_attempts_and_a_pending_one_is_kept(
    app: FastAPI, client: httpx.AsyncClient, database: str, auth: Auth
) -> None:
    admin, auditor = auth("admin", subject="root"), auth("auditor", subject="audrey")
    policy = {"retain_days": 30, "counted_from": "created_at"}
    await ok(await client.put(f"{POLICIES}/webhook_delivery", json=policy, headers=admin))
    ids = await _seed(database, {}, {"delivered": "delivered", "pending": "pending"})
    assert await count(database, _attempts(ids["delivered"])) == 1

    await app.state.runtime.periodic.run_once(DISPOSAL_JOB, now=datetime.now(UTC) + LATER)

    assert await count(database, _delivery(ids["delivered"])) == 0
    assert await count(database, _attempts(ids["delivered"])) == 0
    assert await count(database, _delivery(ids["pending"])) == 1
    assert await count(database, _attempts(ids["pending"])) == 1
    log = await ok(await client.get(LOG, params={"record_type": "webhook_delivery"}, headers=auditor))
    assert [(i["record_id"], i["counted_from"]) for i in log["items"]] == [(str(ids["delivered"]), "created_at")]


async def test_only_admin_manages_records_control_and_the_auditor_reads_it(
    client: httpx.AsyncClient, auth: Auth
) -> None:
    body = {"retain_days": 30, "counted_from": "sent_at"}
    for role in ("requester", "agent", "incident_manager", "auditor"):
        assert (await client.put(f"{POLICIES}/mail_message", json=body, headers=auth(role))).status_code == 403, role
        hold = {"record_type": "mail_message", "reason": "x"}
        assert (await client.post(HOLDS, json=hold, headers=auth(role))).status_code == 403, role
    for role in ("requester", "agent", "incident_manager"):
        for url in (POLICIES, HOLDS, LOG):
            assert (await client.get(url, headers=auth(role))).status_code == 403, (role, url)
    for url in (POLICIES, HOLDS, LOG):
        assert (await client.get(url, headers=auth("auditor"))).status_code == 200, url
    unknown = await client.post(HOLDS, json={"record_type": "mail_intake", "reason": "x"}, headers=auth("admin"))
    assert unknown.status_code == 422 and "record_type" in unknown.text
    missing = {"record_type": "mail_message", "record_id": str(uuid.uuid4()), "reason": "x"}
    assert (await client.post(HOLDS, json=missing, headers=auth("admin"))).status_code == 422
