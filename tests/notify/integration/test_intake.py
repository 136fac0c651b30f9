"""E-mail intake through a real IMAP server (Dovecot, see tests/notify/imap.py; one per module):
mail put into the desk's INBOX by IMAP APPEND is taken by the intake pass, recorded with its IMAP
UID, and its `mail.received.v1` consumed by the incident service's handler through the incident
inbox (as its consumer does, each event offered twice), on databases of their own. A new mail
opens an incident; a reply (by the number in its subject, and by the In-Reply-To of a message
notify sent through a real Exim) becomes a customer comment; an auto-reply opens and sends
nothing; a DSN marks its recipient bounced and holds mail to it; a crash between fetch and commit
(and one between commit and marking the message) ends with one effect; refused attachments are
recorded with the reason; IDLE takes a message as it arrives; two replicas take each message once.
Skipped when Dovecot is not installed (`.ci/run` installs it)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from services.incident.settings import IncidentSettings
from services.incident.store import tables as incident_tables
from services.incident.worker import HANDLERS as INCIDENT_HANDLERS
from services.notify import worker as notify_worker
from services.notify.app import create_app
from services.notify.domain.intake import SenderPolicy
from services.notify.settings import NotifySettings
from services.notify.store import tables
from services.notify.usecases import intake, notifications
from shared import inbox
from shared.db import create_engine
from shared.events import CloudEvent
from shared.uow import UnitOfWork
from tests.conftest import running
from tests.infra import Servers, create_service_database, eventually
from tests.notify.helpers import Notify
from tests.notify.imap import DOVECOT, Imap, dovecot
from tests.notify.integration.test_mail import resolved
from tests.notify.mta import EXIM, Mta, exim

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(DOVECOT is None, reason="Dovecot (dovecot-imapd) is not installed"),
]

DESK = "desk@example.test"


@pytest.fixture(scope="module")
def imap() -> Iterator[Imap]:
    with dovecot(DESK) as server:
        yield server


@contextlib.asynccontextmanager
async def notify_database(servers: Servers, make_settings: Callable[..., Any], label: str) -> AsyncIterator[Notify]:
    """notify on a database of its own (`label`: one per module)."""
    url = await create_service_database(servers, "notify", label=label)
    engine = create_engine(url)
    try:
        yield Notify(engine, url, make_settings(NotifySettings, url, run_worker=False))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def notify_module(servers: Servers, make_settings: Callable[..., Any]) -> AsyncIterator[Notify]:
    """notify on a database of its own for the module (a migrated database per test costs ~1.5 s)."""
    async with notify_database(servers, make_settings, "mailin") as notify:
        yield notify


@pytest.fixture
async def notify(notify_module: Notify, imap: Imap) -> Notify:
    """notify with no intake record, e-mail, bounce or event left by an earlier test; an empty INBOX."""
    imap.empty()
    async with notify_module.engine.begin() as conn:
        for table in (tables.mail_attachment, tables.mail_intake, tables.mail_message, tables.bounced_recipient):
            await conn.execute(table.delete())
        await conn.execute(tables.outbox.delete())
    return notify_module


@pytest.fixture(scope="module")
async def incident_db(servers: Servers) -> str:
    return await create_service_database(servers, "incident", label="mailin")


@pytest.fixture(scope="module")
def incident_settings(incident_db: str, make_settings: Callable[..., Any]) -> IncidentSettings:
    settings: IncidentSettings = make_settings(IncidentSettings, incident_db, run_worker=False)
    return settings


@pytest.fixture
async def incident_engine(incident_db: str) -> AsyncIterator[Any]:
    engine = create_engine(incident_db)
    try:
        yield engine
    finally:
        await engine.dispose()


def config_for(notify: Notify, imap: Imap, **overrides: Any) -> intake.IntakeConfig:
    settings = notify.settings.model_copy(
        update={
            "mail_imap_host": "127.0.0.1",
            "mail_imap_port": imap.port,
            "mail_imap_tls": False,
            "mail_imap_username": imap.user,
            "mail_imap_password": SecretStr(imap.password),
            "mail_imap_timeout_s": 10.0,
            **overrides,
        }
    )
    return intake.intake_config_of(settings)


def mail(sender: str, subject: str, body: str = "It does not print.", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = DESK
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4()}@example.test>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def append(imap: Imap, *messages: EmailMessage) -> None:
    for message in messages:
        imap.append(message.as_bytes())


async def received_events(notify: Notify) -> list[CloudEvent]:
    return [e for e in await notify.published() if e.type == "itsm.mail.received.v1"]


async def to_incident(notify: Notify, settings: IncidentSettings, engine: Any) -> int:
    """notify's `mail.received.v1` events through the incident service's inbox and handler, as its
    consumer applies a delivery; each offered twice (a redelivery). Returns how many were applied."""
    applied = 0
    for event in await received_events(notify):
        for _ in range(2):
            async with UnitOfWork(engine, incident_tables.outbox, source="/itsm/incident", settings=settings) as uow:
                fresh = await inbox.claim(
                    uow.connection,
                    incident_tables.inbox,
                    consumer="incident",
                    event_id=str(event.id),
                    event_type=event.type,
                )
                if fresh:
                    await INCIDENT_HANDLERS[event.routing_key](event, uow)
                    await uow.commit()
                    applied += 1
    return applied


async def outbox_events_of(engine: Any, event_type: str) -> list[CloudEvent]:
    o = incident_tables.outbox
    async with engine.connect() as conn:
        payloads = (await conn.scalars(select(o.c.payload).order_by(o.c.id))).all()
    return [e for e in (CloudEvent.model_validate_json(p) for p in payloads) if e.type == event_type]


async def incidents_of(engine: Any, caller: str) -> list[Any]:
    i = incident_tables.incident
    async with engine.connect() as conn:
        return list(await conn.execute(select(i).where(i.c.caller == caller).order_by(i.c.opened_at)))


async def notes_of(engine: Any, incident_id: uuid.UUID) -> list[Any]:
    n = incident_tables.incident_note
    async with engine.connect() as conn:
        return list(await conn.execute(select(n).where(n.c.incident_id == incident_id)))


async def intake_log(notify: Notify) -> list[Any]:
    async with notify.engine.connect() as conn:
        return list(await conn.execute(select(tables.mail_intake).order_by(tables.mail_intake.c.uid)))


def sender() -> str:
    return f"user{uuid.uuid4().hex[:8]}@example.test"


async def test_a_mail_to_the_desk_opens_an_incident_once(
    notify: Notify, imap: Imap, incident_settings: IncidentSettings, incident_engine: Any
) -> None:
    ada = sender()
    html_only = EmailMessage()
    html_only["From"] = f"Ada <{ada}>"
    html_only["To"] = DESK
    html_only["Subject"] = "VPN down"
    html_only.set_content("<html><style>p{}</style><p>The VPN <b>drops</b></p><p>every hour</p></html>", subtype="html")
    append(imap, mail(ada, "Printer broken", "Printer on floor 2 does not print."), html_only)
    config = config_for(notify, imap)

    assert await intake.run_pass(notify.unit_of_work, config) == 2
    assert set(imap.flags().values()) == {"\\Seen"}, "processed messages are marked on the server"
    assert [(r.outcome, r.sender) for r in await intake_log(notify)] == [("opened", ada), ("opened", ada)]
    assert await intake.run_pass(notify.unit_of_work, config) == 0, "a second pass takes nothing again"

    assert await to_incident(notify, incident_settings, incident_engine) == 2
    opened = await incidents_of(incident_engine, ada)
    assert [(i.title, i.channel) for i in opened] == [("Printer broken", "email"), ("VPN down", "email")]
    assert opened[0].description == "Printer on floor 2 does not print."
    assert opened[1].description == "The VPN drops\n\nevery hour", "HTML-only mail is converted to text"

    # incident.created.v1 comes back to notify (it consumes every event): the log names the numbers.
    created = await outbox_events_of(incident_engine, "itsm.incident.created.v1")
    await notify.consume_with(notify_worker.on_event, *created)
    assert [(r.outcome, r.ticket_number, r.incident_id) for r in await intake_log(notify)] == [
        ("opened", i.number, i.id) for i in opened
    ]


async def test_replies_become_customer_comments(
    notify: Notify, imap: Imap, incident_settings: IncidentSettings, incident_engine: Any
) -> None:
    if EXIM is None:
        pytest.skip("Exim (exim4-daemon-light) is not installed")
    ada = sender()
    config = config_for(notify, imap)
    append(imap, mail(ada, "Laptop will not boot"))
    await intake.run_pass(notify.unit_of_work, config)
    await to_incident(notify, incident_settings, incident_engine)
    (opened,) = await incidents_of(incident_engine, ada)

    # By the number in the subject.
    append(imap, mail(ada, f"Re: [{opened.number}] Laptop will not boot", "It shows a blue screen now."))
    # By In-Reply-To: the caller answers the message notify sent when the incident was resolved.
    with exim([ada.split("@")[0]]) as mta:
        sent = await _send_resolved(notify, mta, opened, ada)
        append(imap, mail(ada, "Re: your ticket", "Still broken after the fix.", In_Reply_To=sent["Message-ID"]))

    await intake.run_pass(notify.unit_of_work, config)
    log = await intake_log(notify)
    assert [r.outcome for r in log] == ["opened", "commented", "commented"]
    assert log[1].ticket_number == opened.number
    assert log[2].incident_id == opened.id and log[2].ticket_number is None, "matched by In-Reply-To alone"
    await to_incident(notify, incident_settings, incident_engine)
    assert len(await incidents_of(incident_engine, ada)) == 1, "a reply opens nothing new"
    notes = await notes_of(incident_engine, opened.id)
    assert sorted((n.text, n.visibility, n.author) for n in notes) == [
        ("It shows a blue screen now.", "customer", ada),
        ("Still broken after the fix.", "customer", ada),
    ]


async def _send_resolved(notify: Notify, mta: Mta, opened: Any, caller: str) -> EmailMessage:
    event = resolved(caller, title=opened.title, number=opened.number, incident_id=opened.id)
    return await sent_through(notify, mta, event, caller)


async def sent_through(notify: Notify, mta: Mta, event: CloudEvent, caller: str) -> EmailMessage:
    """The one mail notify's rules send for `event` to `caller`, as the MTA delivered it."""
    settings = notify.settings.model_copy(
        update={"mail_smtp_host": "127.0.0.1", "mail_smtp_port": mta.port, "mail_from": "Desk <desk@example.test>"}
    )
    config = notifications.mail_config_of(settings)
    async with notify.unit_of_work() as uow:
        await notifications.on_event(event, uow, config)
        await uow.commit()
    assert await notifications.deliver_mail(notify.unit_of_work, config) == 1
    user = caller.split("@")[0]

    async def delivered() -> EmailMessage:
        (message,) = mta.mailbox(user)
        return message

    return await eventually(delivered)


async def test_an_auto_reply_opens_nothing_and_is_not_answered(
    notify: Notify, imap: Imap, incident_settings: IncidentSettings, incident_engine: Any
) -> None:
    robot = sender()
    append(
        imap,
        mail(robot, "Out of office", Auto_Submitted="auto-replied"),
        mail(robot, "Weekly digest", Precedence="bulk"),
        mail(robot, "I am away", X_Autoreply="yes"),
    )
    assert await intake.run_pass(notify.unit_of_work, config_for(notify, imap)) == 3
    assert [r.outcome for r in await intake_log(notify)] == ["auto_reply"] * 3
    assert await received_events(notify) == [], "nothing is sent to open a ticket"
    async with notify.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.mail_message)) == 0, "nothing answered"
    assert await to_incident(notify, incident_settings, incident_engine) == 0
    assert await incidents_of(incident_engine, robot) == []


DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.test>
To: desk@example.test
Subject: Mail delivery failed: returning message to sender
Auto-Submitted: auto-replied
Message-ID: <dsn-1@mx.example.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

This message was created automatically by mail delivery software.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.test

Action: failed
Final-Recipient: rfc822;gone@example.test
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.test>: no such user

--b1
Content-Type: message/rfc822

From: desk@example.test
To: gone@example.test
Subject: INC0000001 resolved

--b1--
"""


async def test_a_dsn_marks_the_recipient_bounced_and_holds_mail_to_it(
    notify: Notify, imap: Imap, auth: Callable[..., dict[str, str]]
) -> None:
    imap.append(DSN.replace("\n", "\r\n").encode())
    assert await intake.run_pass(notify.unit_of_work, config_for(notify, imap)) == 1
    (row,) = await intake_log(notify)
    assert (row.outcome, row.detail) == ("bounce", "delivery failed to: gone@example.test")
    assert await received_events(notify) == [], "a bounce opens nothing"

    settings = notify.settings.model_copy(update={"mail_smtp_host": "127.0.0.1", "mail_smtp_port": 9})
    async with running(create_app(settings)) as client:
        admin = auth("admin")
        page = (await client.get("/api/v1/mail/bounces", headers=admin)).json()
        assert [(b["address"], b["status"], b["bounces"]) for b in page["items"]] == [("gone@example.test", "5.1.1", 1)]

        # Mail to the bounced recipient is held (not sent, not retried), and the log says why.
        config = notifications.mail_config_of(settings)
        event = resolved("gone@example.test", number="INC0000001")
        async with notify.unit_of_work() as uow:
            await notifications.on_event(event, uow, config)
            await uow.commit()
        assert await notifications.deliver_mail(notify.unit_of_work, config) == 0
        (held,) = (await client.get("/api/v1/notifications/messages", headers=admin)).json()["items"]
        assert held["status"] == "held" and held["attempts"] == 0
        assert "gone@example.test bounced (5.1.1" in held["last_error"]

        # Clearing the bounce lets it go again.
        assert (await client.delete("/api/v1/mail/bounces/gone@example.test", headers=admin)).status_code == 204
        (due,) = (await client.get("/api/v1/notifications/messages", headers=admin)).json()["items"]
        assert due["status"] == "pending"
        assert (await client.get("/api/v1/mail/bounces", headers=admin)).json()["total"] == 0


class CommitFails(UnitOfWork):
    """A unit of work whose commit fails: the process dying between the fetch and the commit."""

    async def commit(self) -> None:
        raise RuntimeError("killed before the commit")


async def test_a_crash_between_fetch_and_commit_takes_the_mail_once(
    notify: Notify, imap: Imap, incident_settings: IncidentSettings, incident_engine: Any
) -> None:
    ada = sender()
    append(imap, mail(ada, "Screen flickers"))
    config = config_for(notify, imap)

    def crashing() -> UnitOfWork:
        return CommitFails(notify.engine, tables.outbox, source="/itsm/notify", settings=notify.settings)

    with pytest.raises(RuntimeError, match="killed before the commit"):
        await intake.run_pass(crashing, config)
    assert await intake_log(notify) == []
    assert "\\Seen" not in "".join(imap.flags().values()), "nothing committed, nothing marked"
    assert await intake.run_pass(notify.unit_of_work, config) == 1

    imap.unflag_all()  # a crash after the commit, before the message was marked: fetched again
    assert await intake.run_pass(notify.unit_of_work, config) == 0
    assert set(imap.flags().values()) == {"\\Seen"}, "the recorded message is marked this time"

    assert len(await intake_log(notify)) == 1
    assert len(await received_events(notify)) == 1
    assert await to_incident(notify, incident_settings, incident_engine) == 1
    assert len(await incidents_of(incident_engine, ada)) == 1, "processed once"


async def test_attachments_over_the_limit_or_of_a_refused_type_are_recorded_as_refused(
    notify: Notify, imap: Imap, auth: Callable[..., dict[str, str]]
) -> None:
    ada = sender()
    message = mail(ada, "Error screenshot")
    message.add_attachment(b"%PDF-1.4 small", maintype="application", subtype="pdf", filename="report.pdf")
    message.add_attachment(b"MZ" + b"\0" * 100, maintype="application", subtype="x-msdownload", filename="tool.exe")
    message.add_attachment(b"\x89PNG" + b"x" * 5000, maintype="image", subtype="png", filename="big.png")
    append(imap, message)
    config = config_for(notify, imap, mail_intake_attachment_max_bytes=1000)
    assert await intake.run_pass(notify.unit_of_work, config) == 1
    (event,) = await received_events(notify)
    assert [a["filename"] for a in event.data["attachments"]] == ["report.pdf"]
    assert event.data["refused_attachments"] == 2

    async with running(create_app(notify.settings)) as client:
        admin = auth("admin")
        (item,) = (await client.get("/api/v1/mail/intake", headers=admin)).json()["items"]
        found = {a["filename"]: (a["status"], a["reason"]) for a in item["attachments"]}
        assert found == {
            "report.pdf": ("stored", None),
            "tool.exe": ("refused", "type application/x-msdownload is not allowed"),
            "big.png": ("refused", "5004 bytes, more than the limit of 1000"),
        }
        stored = next(a for a in item["attachments"] if a["status"] == "stored")
        agent = auth("agent")
        content = await client.get(f"/api/v1/mail/attachments/{stored['id']}", headers=agent)
        assert content.status_code == 200 and content.content == b"%PDF-1.4 small"
        assert content.headers["content-type"] == "application/pdf"
        assert content.headers["content-disposition"] == 'attachment; filename="report.pdf"'
        refused = next(a for a in item["attachments"] if a["filename"] == "tool.exe")
        assert (await client.get(f"/api/v1/mail/attachments/{refused['id']}", headers=agent)).status_code == 404
        requester = auth("requester")
        assert (await client.get("/api/v1/mail/intake", headers=requester)).status_code == 403
        assert (await client.get(f"/api/v1/mail/attachments/{stored['id']}", headers=requester)).status_code == 403


async def test_idle_takes_a_message_as_it_arrives(notify: Notify, imap: Imap) -> None:
    config = config_for(notify, imap, mail_intake_idle_s=20.0)
    opened = asyncio.Event()

    def watched() -> UnitOfWork:
        opened.set()  # the pass has searched the folder (empty): it goes into IDLE next
        return notify.unit_of_work()

    task = asyncio.create_task(intake.run_pass(watched, config))
    await asyncio.wait_for(opened.wait(), 10)
    await asyncio.sleep(0.2)  # let it send IDLE (no condition visible from outside the session)
    await asyncio.to_thread(append, imap, mail(sender(), "Arrived while idling"))
    assert await asyncio.wait_for(task, 15) == 1
    assert [r.subject for r in await intake_log(notify)] == ["Arrived while idling"]


async def test_two_replicas_take_each_message_once(notify: Notify, imap: Imap) -> None:
    append(imap, *(mail(sender(), f"Storm {i}") for i in range(8)))
    config = config_for(notify, imap)
    second = create_engine(notify.url)
    try:
        other = Notify(second, notify.url, notify.settings)
        counts = await asyncio.gather(
            intake.run_pass(notify.unit_of_work, config), intake.run_pass(other.unit_of_work, config)
        )
    finally:
        await second.dispose()
    assert sum(counts) == 8
    assert len(await intake_log(notify)) == 8
    assert sorted(e.data["subject"] for e in await received_events(notify)) == sorted(f"Storm {i}" for i in range(8))


async def test_a_sender_outside_the_allowed_domains_is_rejected_and_recorded(notify: Notify, imap: Imap) -> None:
    append(imap, mail("eve@elsewhere.test", "Let me in"), mail(sender(), "Inside"))
    config = config_for(
        notify,
        imap,
        mail_intake_sender_policy=SenderPolicy.ALLOWED_DOMAINS,
        mail_intake_allowed_domains=["example.test"],
    )
    assert await intake.run_pass(notify.unit_of_work, config) == 2
    assert [(r.outcome, r.subject) for r in await intake_log(notify)] == [
        ("rejected_sender", "Let me in"),
        ("opened", "Inside"),
    ]
    assert [e.data["subject"] for e in await received_events(notify)] == ["Inside"]


async def test_mail_to_a_request_address_or_tagged_opens_a_request(notify: Notify, imap: Imap) -> None:
    item = uuid.uuid4()
    tagged = mail(sender(), "[REQ] New laptop")
    to_orders = mail(sender(), "Monitor please")
    del to_orders["To"]
    to_orders["To"] = "Orders <orders@example.test>"
    append(imap, tagged, to_orders, mail(sender(), "Printer broken"))
    config = config_for(
        notify, imap, mail_intake_request_addresses=["orders@example.test"], mail_intake_request_item=item
    )
    assert await intake.run_pass(notify.unit_of_work, config) == 3
    kinds = {
        e.data["subject"]: (e.data["kind"], e.data.get("catalogue_item_id")) for e in await received_events(notify)
    }
    assert kinds == {
        "[REQ] New laptop": ("request", str(item)),
        "Monitor please": ("request", str(item)),
        "Printer broken": ("incident", None),
    }


async def test_intake_records_past_their_retention_are_forgotten_with_their_attachments(
    notify: Notify, imap: Imap
) -> None:
    message = mail(sender(), "With a picture")
    message.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="p.png")
    append(imap, message)
    await intake.run_pass(notify.unit_of_work, config_for(notify, imap))
    assert await intake.forget_old_intake(notify.unit_of_work(), timedelta(days=1)) == 0
    assert len(await intake_log(notify)) == 1
    assert await intake.forget_old_intake(notify.unit_of_work(), timedelta(seconds=-1)) == 1
    assert await intake_log(notify) == []
    async with notify.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(tables.mail_attachment)) == 0
    assert await intake.run_pass(notify.unit_of_work, config_for(notify, imap)) == 0, "it was marked: not taken again"
