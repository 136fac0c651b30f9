"""Recipients from the directory and delivery preferences, through a real Exim: the CAB's members
get the vote-needed mail (mandatory: no unsubscribe link); an assignment group's member in quiet
hours still gets a mandatory SLA warning, while her non-mandatory acknowledgement is held until
they end; an acknowledgement carries RFC 8058 `List-Unsubscribe` headers, and a POST to that link
(through the service's API, no bearer token) stops that rule's mail to that address."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.notify.app import create_app
from services.notify.domain.recipients import Person
from services.notify.store import tables
from services.notify.usecases import notifications
from shared.events import CloudEvent, new_event
from shared.events.change import ChangeAssessed
from shared.events.incident import IncidentCreated, SlaWarning
from tests.conftest import running
from tests.infra import eventually
from tests.notify.helpers import Notify
from tests.notify.integration.test_mail import consume
from tests.notify.mta import EXIM, Mta, exim

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(EXIM is None, reason="Exim (exim4-daemon-light) is not installed"),
]


@pytest.fixture
def mta() -> Iterator[Mta]:
    with exim(["ada", "bob", "carol", "dave"]) as server:
        yield server


def created(caller: str) -> CloudEvent:
    data = IncidentCreated(
        incident_id=uuid.uuid4(),
        number="INC0000100",
        title="Mail down",
        impact=2,
        urgency=2,
        priority=3,
        caller=caller,
        opened_at=datetime.now(UTC),
    )
    return new_event(data, source="/itsm/incident", subject=str(data.incident_id))


def assessed() -> CloudEvent:
    now = datetime.now(UTC)
    data = ChangeAssessed(
        change_id=uuid.uuid4(),
        number="CHG0000007",
        type="normal",
        status="assessed",
        previous_status="submitted",
        actor="eve",
        occurred_at=now,
        risk="medium",
        requested_by="eve",
    )
    return new_event(data, source="/itsm/change", subject=str(data.change_id))


def warning() -> CloudEvent:
    now = datetime.now(UTC)
    data = SlaWarning(
        ticket_kind="incident",
        ticket_id=uuid.uuid4(),
        ticket_number="INC0000100",
        target="resolution",
        policy_id=uuid.uuid4(),
        priority=3,
        assignment_group="network",
        target_business_s=3600,
        elapsed_business_s=2900,
        due_at=now + timedelta(minutes=10),
        occurred_at=now,
        share_used=0.8,
    )
    return new_event(data, source="/itsm/incident", subject=str(data.ticket_id))


async def messages(notify: Notify) -> list[Any]:
    async with notify.engine.connect() as conn:
        return list(await conn.execute(select(tables.mail_message).order_by(tables.mail_message.c.seq)))


async def test_directory_recipients_quiet_hours_and_one_click_unsubscribe(notify: Notify, mta: Mta) -> None:
    settings = notify.settings.model_copy(
        update={
            "mail_smtp_host": "127.0.0.1",
            "mail_smtp_port": mta.port,
            "mail_from": "Desk <desk@itsm.test>",
            "mail_recipient_domain": mta.domain,
            "public_url": "http://desk.test",
        }
    )
    config = notifications.mail_config_of(settings)
    now = datetime.now(UTC)
    quiet = {
        "quiet_start": (now - timedelta(hours=1)).strftime("%H:%M"),
        "quiet_end": (now + timedelta(hours=1)).strftime("%H:%M"),
    }
    for person in (
        Person("ada", mta.address("ada"), roles=("cab",)),
        Person("bob", mta.address("bob"), roles=("cab",)),
        Person("carol", mta.address("carol"), groups=("network",), time_zone="UTC", **quiet),
    ):
        await notifications.put_person(person, "admin", notify.unit_of_work())

    await consume(notify, config, assessed(), warning(), created("dave"), created("carol"))
    assert await notifications.deliver_mail(notify.unit_of_work, config) == 4

    async def delivered() -> None:
        assert [len(mta.mailbox(u)) for u in ("ada", "bob", "carol", "dave")] == [1, 1, 1, 1], mta.log()

    await eventually(delivered)
    for user in ("ada", "bob"):
        (vote,) = mta.mailbox(user)
        assert vote["Subject"] == "CAB vote needed: CHG0000007"
        assert vote["List-Unsubscribe"] is None, "a mandatory rule's mail cannot be unsubscribed"
    (sla,) = mta.mailbox("carol")
    assert sla["Subject"] == "SLA at risk: INC0000100 (resolution)", "mandatory: sent in quiet hours"
    held = [m for m in await messages(notify) if m.recipient == mta.address("carol") and m.status == "pending"]
    assert len(held) == 1 and held[0].subject.startswith("INC0000100 received")
    assert held[0].next_attempt_at > now + timedelta(minutes=50), "held until her quiet hours end"

    (ack,) = mta.mailbox("dave")
    assert ack["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = ack["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://desk.test/notifications/unsubscribe?token=")
    async with running(create_app(settings)) as client:
        path = link.removeprefix("http://desk.test")
        r = await client.post(
            path, content=b"List-Unsubscribe=One-Click", headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert r.status_code == 200, r.text
        assert (await client.post(path + "x")).status_code == 404, "an altered link is not valid"
    before = len(await messages(notify))
    await consume(notify, config, created("dave"), assessed())
    after = await messages(notify)
    assert [m.recipient for m in after[before:]] == [mta.address("ada"), mta.address("bob")], "dave unsubscribed"
