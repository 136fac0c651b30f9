"""Digests through a real Exim: a person whose directory entry asks for an hourly digest gets, at
the next full hour, one mail listing every message of that hour instead of each message (a
mandatory rule's mail still goes at once, and a person without a digest gets each message);
with two replicas sending at once, each recipient's digest is sent once and lists each message
once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.notify.domain.recipients import Person
from services.notify.store.tables import mail_message as M
from services.notify.usecases import notifications
from shared import clock
from shared.db import create_engine
from tests.infra import eventually
from tests.notify.helpers import Notify
from tests.notify.integration.test_mail import config_for, consume, messages, resolved
from tests.notify.integration.test_recipients_and_preferences import warning
from tests.notify.mta import EXIM, Mta, exim

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(EXIM is None, reason="Exim (exim4-daemon-light) is not installed"),
]

DIGESTING = ("ada", "bob", "carol")


@pytest.fixture
def mta() -> Iterator[Mta]:
    with exim(["ada", "bob", "carol", "dave"]) as server:
        yield server


async def test_an_hourly_digest_is_one_mail_per_recipient_sent_once_by_two_replicas(notify: Notify, mta: Mta) -> None:
    config = replace(config_for(notify, mta, mail_recipient_domain=mta.domain), max_per_pass=1)
    for user in DIGESTING:
        person = Person(user, mta.address(user), groups=("network",) if user == "ada" else (), digest="hourly")
        await notifications.put_person(person, "admin", notify.unit_of_work())
    await notifications.put_person(Person("dave", mta.address("dave")), "admin", notify.unit_of_work())

    numbers = {user: [f"INC{i:07d}" for i in range(n * 10, n * 10 + 4)] for n, user in enumerate(DIGESTING)}
    events = [resolved(user, number=number, title=f"case {number}") for user in DIGESTING for number in numbers[user]]
    await consume(notify, config, *events, warning(), resolved("dave", number="INC0000099"))
    queued = await messages(notify)
    assert sum(m.digest for m in queued) == 12, "each message of a digesting person waits for the digest"

    while await notifications.deliver_mail(notify.unit_of_work, config):
        pass

    async def at_once() -> None:  # the SLA warning (mandatory) to ada, dave's own message
        assert [len(mta.mailbox(u)) for u in ("ada", "bob", "carol", "dave")] == [1, 0, 0, 1], mta.log()

    await eventually(at_once)
    assert mta.mailbox("ada")[0]["Subject"].startswith("SLA at risk"), "mandatory mail is not digested"
    assert mta.mailbox("dave")[0]["Subject"] == "INC0000099 resolved: Printer on fire <b>now</b>"
    waiting = [m for m in await messages(notify) if m.digest]
    assert {m.status for m in waiting} == {"pending"}
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert {m.next_attempt_at for m in waiting} <= {hour, hour + timedelta(hours=1)}, "the next full hour"

    second = create_engine(notify.url)
    replicas = [notify, Notify(second, notify.url, notify.settings)]
    counts = [0, 0]

    async def replica(index: int) -> None:
        for _ in range(50):
            counts[index] += await notifications.deliver_mail(replicas[index].unit_of_work, config)
            await asyncio.sleep(0)

    head = min((m for m in waiting if m.recipient == mta.address("ada")), key=lambda m: m.seq)
    try:
        with clock.occurring_at(max(m.next_attempt_at for m in waiting) + timedelta(minutes=1)):
            async with second.connect() as other:  # a replica that claimed ada's first message, still sending
                await other.execute(select(M.c.id).where(M.c.id == head.id).with_for_update())
                while await notifications.deliver_mail(notify.unit_of_work, config):
                    counts[0] += 1
                assert counts[0] == 2, "bob's and carol's digests; ada's rest wait for the replica with her first"
                await other.rollback()
            await asyncio.gather(replica(0), replica(1))
    finally:
        await second.dispose()
    assert sum(counts) == len(DIGESTING), f"one digest per recipient: {counts}"

    async def digested() -> None:
        assert [len(mta.mailbox(u)) for u in ("ada", "bob", "carol", "dave")] == [2, 1, 1, 1], mta.log()

    await eventually(digested)
    for user in DIGESTING:
        (digest,) = [m for m in mta.mailbox(user) if not m["Subject"].startswith("SLA")]
        assert digest["Subject"] == "4 notifications from the service desk"
        assert digest["List-Unsubscribe"] is None
        assert digest["Message-ID"].startswith("<digest.")
        text = digest.get_body(("plain",)).get_content()
        html = digest.get_body(("html",)).get_content()
        for number in numbers[user]:
            assert text.count(f"{number} resolved: case {number}") == 1, text
            assert f"your incident {number}" in text
            assert html.count(f"{number} resolved: case {number}") == 1
        assert "<b>" not in html
    rows = [m for m in await messages(notify) if m.digest]
    assert {m.status for m in rows} == {"sent"} and {m.attempts for m in rows} == {1}
