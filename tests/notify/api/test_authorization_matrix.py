"""The authorisation matrix walked against the running notify service: every operation, with a token
of every role, on a real subscription. The expectation is written here, apart from the service's
table, so that flipping a row of the table fails the walk: the administrator manages webhook
subscriptions, notification rules and the directory, the auditor reads them and their delivery
logs (and the e-mail intake log and bounces); agents and incident managers also read mailed-in
attachments; every other role is refused."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import insert

from services.notify.api import ROUTERS
from services.notify.api.deps import POLICY
from services.notify.store import tables
from shared.auth import Role
from shared.db import create_engine
from tests.authorization import RECORDS_CONTROL, Expect, Matrix, expect
from tests.authorization_allowed import ownerless_matrix

pytestmark = pytest.mark.asyncio(loop_scope="session")
Auth = Callable[..., dict[str, str]]

MANAGE = expect([Role.ADMIN])
READ = expect([Role.ADMIN, Role.AUDITOR])
EXPECTED: dict[str, Expect] = {
    "subscriptions.create_subscription": MANAGE,
    "subscriptions.list_all_subscriptions": READ,
    "subscriptions.get_subscription_record": READ,
    "subscriptions.disable": MANAGE,
    "subscriptions.enable": MANAGE,
    "subscriptions.rotate_secret": MANAGE,
    "deliveries.list_all_deliveries": READ,
    "deliveries.get_delivery_record": READ,
    "deliveries.replay_events": MANAGE,
    "notifications.create_rule": MANAGE,
    "notifications.list_all_rules": READ,
    "notifications.list_all_messages": READ,
    "notifications.delete_rule_record": MANAGE,
    "notifications.disable_rule": MANAGE,
    "notifications.enable_rule": MANAGE,
    "intake.list_intake_log": READ,
    "intake.get_intake_record": READ,
    "intake.get_attachment_content": expect([Role.ADMIN, Role.AUDITOR, Role.AGENT, Role.INCIDENT_MANAGER]),
    "intake.list_bounced_recipients": READ,
    "intake.clear_bounced_recipient": MANAGE,
    "notifications.put_directory_person": MANAGE,
    "notifications.list_directory": READ,
    "notifications.get_directory_person": READ,
    "notifications.delete_directory_person": MANAGE,
    # Records control: the same rows in every service that mounts it.
    **RECORDS_CONTROL,
    "subscriptions.delete_subscription_record": MANAGE,  # last: it removes the walk's subscription
}


async def mailed_in(database_url: str) -> dict[str, str]:
    """An intake record with a stored attachment, and a bounced recipient, for the intake routes."""
    intake_id, attachment_id = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(tables.mail_intake).values(
                    id=intake_id,
                    folder="INBOX",
                    uidvalidity=1,
                    uid=int(uuid.uuid4().int % 2**40),
                    sender="ada@example.test",
                    subject="walk",
                    outcome="opened",
                    detail="",
                    received_at=now,
                )
            )
            await conn.execute(
                insert(tables.mail_attachment).values(
                    id=attachment_id,
                    intake_id=intake_id,
                    filename="a.pdf",
                    content_type="application/pdf",
                    size=1,
                    status="stored",
                    content=b"x",
                )
            )
    finally:
        await engine.dispose()
    return {"intake_id": str(intake_id), "attachment_id": str(attachment_id), "address": "gone@example.test"}


async def matrix(client: httpx.AsyncClient, auth: Auth, database_url: str) -> Matrix:
    r = await client.post(
        "/api/v1/webhooks/subscriptions",
        json={"url": "https://93.184.215.14/hooks", "event_pattern": "#"},
        headers=auth(Role.ADMIN),
    )
    assert r.status_code == 201, r.text
    rule = await client.post(
        "/api/v1/notifications/rules",
        json={
            "name": f"walk {uuid.uuid4()}",
            "event_pattern": "incident.created.v1",
            "template": "incident_resolved",
            "recipient_fields": ["data.caller"],
        },
        headers=auth(Role.ADMIN),
    )
    assert rule.status_code == 201, rule.text
    username = f"walker{uuid.uuid4().hex[:8]}"
    person = await client.put(
        f"/api/v1/notifications/directory/{username}", json={"address": "w@example.test"}, headers=auth(Role.ADMIN)
    )
    assert person.status_code == 200, person.text
    ids = {
        "subscription_id": r.json()["id"],
        "rule_id": rule.json()["id"],
        "username": username,
        **await mailed_in(database_url),
    }
    return ownerless_matrix(client, auth, EXPECTED, ROUTERS, POLICY, ids)


async def test_every_row_of_the_table_has_its_expectation() -> None:
    assert sorted(POLICY.table) == sorted(EXPECTED)


async def test_the_matrix_holds_for_every_operation_and_role(
    client: httpx.AsyncClient, auth: Auth, notify_db: str
) -> None:
    assert await (await matrix(client, auth, notify_db)).walk() == []


async def test_flipping_any_row_of_the_table_fails_the_walk(
    client: httpx.AsyncClient, auth: Auth, monkeypatch: pytest.MonkeyPatch, notify_db: str
) -> None:
    walk = await matrix(client, auth, notify_db)
    assert await walk.unnoticed_flips(POLICY, monkeypatch) == []
