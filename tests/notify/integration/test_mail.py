"""E-mail through a real MTA (Exim, see tests/notify/mta.py): an incident resolved reaches the
caller's mailbox with a plain-text and an HTML part and the desk's headers; two replicas send it
once; a failing server is retried; and an event published on the broker reaches the mailbox
through the running service. Skipped when Exim is not installed (`.ci/run` installs it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.notify.app import create_app
from services.notify.settings import NotifySettings
from services.notify.store import tables
from services.notify.usecases import notifications
from shared.db import create_engine
from shared.events import CloudEvent, new_event
from shared.events.incident import IncidentAssigned, IncidentResolved
from tests.conftest import running
from tests.infra import Servers, eventually
from tests.notify.helpers import FAST_RETRIES, Notify
from tests.notify.integration.test_replicas_and_broker import publish
from tests.notify.mta import EXIM, Mta, exim

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(EXIM is None, reason="Exim (exim4-daemon-light) is not installed"),
]

DESK = "Service Desk <desk@itsm.test>"
REPLY_TO = "support@itsm.test"
MAIL: dict[str, Any] = {
    "mail_smtp_host": "127.0.0.1",
    "mail_from": DESK,
    "mail_reply_to": REPLY_TO,
    "mail_recipient_domain": "example.test",
    "mail_retry_first_s": 0.05,
    "mail_retry_max_s": 0.1,
}


@pytest.fixture
def mta() -> Iterator[Mta]:
    with exim(["ada", "bob", "carol"]) as server:
        yield server


def resolved(
    caller: str,
    *,
    title: str = "Printer on fire <b>now</b>",
    number: str = "INC0000042",
    incident_id: uuid.UUID | None = None,
) -> CloudEvent:
    now = datetime.now(UTC)
    data = IncidentResolved(
        incident_id=incident_id or uuid.uuid4(),
        number=number,
        status="resolved",
        previous_status="in_progress",
        priority=2,
        actor="bob",
        occurred_at=now,
        reason="toner replaced",
        caller=caller,
        title=title,
        resolution_code="fixed",
        resolved_at=now,
        opened_at=now - timedelta(hours=2),
    )
    return new_event(data, source="/itsm/incident", subject=str(data.incident_id))


def config_for(notify: Notify, mta: Mta, **overrides: Any) -> notifications.MailConfig:
    settings = notify.settings.model_copy(update={**MAIL, "mail_smtp_port": mta.port, **overrides})
    return notifications.mail_config_of(settings)


async def consume(notify: Notify, config: notifications.MailConfig, *events: CloudEvent) -> None:
    for item in events:
        async with notify.unit_of_work() as uow:
            await notifications.on_event(item, uow, config)
            await uow.commit()


async def messages(notify: Notify) -> list[Any]:
    async with notify.engine.connect() as conn:
        return list(await conn.execute(select(tables.mail_message).order_by(tables.mail_message.c.seq)))


async def test_an_incident_resolved_reaches_the_callers_mailbox_with_both_parts(notify: Notify, mta: Mta) -> None:
    config = config_for(notify, mta)
    event = resolved("ada")  # a user name: the recipient domain setting makes it ada@example.test
    await consume(notify, config, event)
    await consume(notify, config, event)  # a redelivered event queues nothing twice
    assert [m.recipient for m in await messages(notify)] == ["ada@example.test"]

    assert await notifications.deliver_mail(notify.unit_of_work, config) == 1

    async def delivered() -> None:  # Exim delivers into the Maildir just after it accepted
        assert len(mta.mailbox("ada")) == 1, mta.log()

    await eventually(delivered)
    mail = mta.mailbox("ada")[0]
    assert mail["From"] == DESK
    assert mail["Reply-To"] == REPLY_TO
    assert mail["To"] == "ada@example.test"
    assert mail["Subject"] == "INC0000042 resolved: Printer on fire <b>now</b>"
    assert mail["Auto-Submitted"] == "auto-generated"
    (row,) = await messages(notify)
    assert mail["Message-ID"] == f"<{row.id}@itsm.test>"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and html is not None
    assert 'your incident INC0000042 ("Printer on fire <b>now</b>") was resolved' in text.get_content()
    assert "Resolution: toner replaced" in text.get_content()
    assert "Printer on fire &lt;b&gt;now&lt;/b&gt;" in html.get_content(), "the HTML part is autoescaped"
    assert "<b>now</b>" not in html.get_content()
    assert row.status == "sent" and row.attempts == 1 and row.sent_at is not None and row.last_error is None
    assert mta.mailbox("bob") == []


async def test_two_replicas_send_each_message_once(notify: Notify, mta: Mta) -> None:
    config = replace(config_for(notify, mta), max_per_pass=5)
    callers = ["ada", "bob", "carol@example.test"]
    sent = [resolved(callers[i % 3], number=f"INC{i:07d}") for i in range(30)]
    await consume(notify, config, *sent)
    second = create_engine(notify.url)
    replicas = [notify, Notify(second, notify.url, notify.settings)]
    counts = [0, 0]

    async def replica(index: int) -> None:
        for _ in range(200):
            counts[index] += await notifications.deliver_mail(replicas[index].unit_of_work, config)
            if sum(counts) >= len(sent):
                return
            await asyncio.sleep(0)

    try:
        await asyncio.gather(replica(0), replica(1))
        for r in replicas:  # nothing is left for either
            assert await notifications.deliver_mail(r.unit_of_work, config) == 0
    finally:
        await second.dispose()
    assert sum(counts) == len(sent)
    assert all(n > 0 for n in counts), f"both replicas sent: {counts}"

    async def all_delivered() -> None:
        assert sum(len(mta.mailbox(u)) for u in ("ada", "bob", "carol")) == len(sent)

    await eventually(all_delivered)
    subjects = [m["Subject"].split()[0] for u in ("ada", "bob", "carol") for m in mta.mailbox(u)]
    assert sorted(subjects) == sorted(f"INC{i:07d}" for i in range(30)), "each message exactly once"


async def test_a_server_that_is_down_is_retried_and_the_log_says_why(notify: Notify, mta: Mta) -> None:
    down = config_for(notify, mta, mail_smtp_port=1)  # nothing listens there
    await consume(notify, down, resolved("ada"))
    assert await notifications.deliver_mail(notify.unit_of_work, down) == 0
    (row,) = await messages(notify)
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at > row.last_attempt_at

    up = config_for(notify, mta)

    async def sent_on_retry() -> None:
        await notifications.deliver_mail(notify.unit_of_work, up)
        (again,) = await messages(notify)
        assert again.status == "sent" and again.attempts == 2

    await eventually(sent_on_retry)

    async def delivered() -> None:
        assert len(mta.mailbox("ada")) == 1

    await eventually(delivered)


async def test_no_address_and_no_domain_setting_queues_nothing(notify: Notify, mta: Mta) -> None:
    config = config_for(notify, mta, mail_recipient_domain="")
    await consume(notify, config, resolved("ada"))
    assert await messages(notify) == []
    await consume(notify, config, resolved("ada@example.test"))
    assert [m.recipient for m in await messages(notify)] == ["ada@example.test"]


async def test_an_incident_published_on_the_broker_reaches_the_assignee_through_the_running_service(
    servers: Servers,
    service_database: Callable[[str], Any],
    make_settings: Callable[..., Any],
    mta: Mta,
) -> None:
    settings = make_settings(
        NotifySettings,
        await service_database("notify"),
        queue_prefix=servers.new_queue_prefix("notify"),
        mail_smtp_port=mta.port,
        mail_delivery_interval_s=0.05,
        **MAIL,
        **FAST_RETRIES,
    )
    now = datetime.now(UTC)
    data = IncidentAssigned(
        incident_id=uuid.uuid4(),
        number="INC0000007",
        status="assigned",
        previous_status="new",
        priority=1,
        actor="dispatcher",
        occurred_at=now,
        assignment_group="network",
        assignee="bob",
        caller="ada",
        title="VPN down",
    )
    async with running(create_app(settings)) as client:

        async def consuming() -> None:
            r = await client.get("/readyz")
            assert r.status_code == 200 and r.json()["checks"]["consumer"] == "ok", r.text

        await eventually(consuming)
        await publish(servers, new_event(data, source="/itsm/incident", subject=str(data.incident_id)))

        async def arrived() -> None:
            assert len(mta.mailbox("bob")) == 1

        await eventually(arrived, within_s=30)
    mail = mta.mailbox("bob")[0]
    assert mail["Subject"] == "INC0000007 assigned to you: VPN down"
    assert "assigned to you in network" in mail.get_body(("plain",)).get_content()
    assert mta.mailbox("ada") == []
