"""Service desks through a real Exim: with two desks configured, an incident of desk A's service
is mailed From desk A with its Reply-To, one of desk B's assignment group from desk B (which has no
Reply-To of its own), and one neither serves from the default desk (`mail_from`, `mail_reply_to`);
each signed with its desk's name. A digest goes from the desk of its first message, and a
resolution mail rendered again with its survey link keeps its desk."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from services.notify import worker
from services.notify.domain.recipients import Person
from services.notify.schemas.notifications import MessageRead
from services.notify.settings import MailDesk
from services.notify.usecases import notifications
from shared import clock
from shared.events import CloudEvent, new_event
from shared.events.incident import IncidentResolved
from tests.infra import eventually
from tests.notify.helpers import Notify
from tests.notify.integration.test_mail import DESK, REPLY_TO, config_for, consume, messages, resolved
from tests.notify.integration.test_survey_link import PAGE, SECRET, issued, send_all, with_mail
from tests.notify.mta import EXIM, Mta, exim

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(EXIM is None, reason="Exim (exim4-daemon-light) is not installed"),
]

NETWORK = uuid.uuid4()
DESK_A = "Network Desk <network@net.itsm.test>"
DESK_A_REPLY_TO = "network-help@net.itsm.test"
DESK_B = "people@hr.itsm.test"
DESKS = [  # as NOTIFY_MAIL_DESKS gives them
    MailDesk.model_validate(desk)
    for desk in [
        {"name": "Network Desk", "from": DESK_A, "reply_to": DESK_A_REPLY_TO, "service_ids": [str(NETWORK)]},
        {"name": "People Desk", "from": DESK_B, "assignment_groups": ["hr-ops", "payroll"]},
    ]
]


@pytest.fixture
def mta() -> Iterator[Mta]:
    with exim(["ada", "bob", "carol"]) as server:
        yield server


def about(caller: str, number: str, **where: Any) -> CloudEvent:
    """An incident resolved for `caller`, of the service and assignment group given."""
    data = IncidentResolved.model_validate(resolved(caller, number=number).data | where)
    return new_event(data, source="/itsm/incident", subject=str(data.incident_id))


async def test_each_incident_is_mailed_from_the_desk_of_its_service_or_group(notify: Notify, mta: Mta) -> None:
    config = config_for(notify, mta, mail_desks=DESKS)
    await consume(
        notify,
        config,
        about("ada", "INC0000001", service_id=NETWORK, assignment_group="payroll"),  # the service comes first
        about("bob", "INC0000002", service_id=uuid.uuid4(), assignment_group="Payroll"),
        about("carol", "INC0000003", service_id=uuid.uuid4(), assignment_group="facilities"),
    )
    rows = {m.recipient.split("@")[0]: m for m in await messages(notify)}
    assert (rows["ada"].desk_name, rows["ada"].mail_from, rows["ada"].mail_reply_to) == (
        "Network Desk",
        DESK_A,
        DESK_A_REPLY_TO,
    )
    assert (rows["bob"].desk_name, rows["bob"].mail_from, rows["bob"].mail_reply_to) == ("People Desk", DESK_B, "")
    assert (rows["carol"].desk_name, rows["carol"].mail_from, rows["carol"].mail_reply_to) == (None, None, None)
    logged = [MessageRead.of(rows[u]) for u in ("ada", "bob", "carol")]  # as the message log shows them
    assert [(m.desk, m.mail_from) for m in logged] == [("Network Desk", DESK_A), ("People Desk", DESK_B), (None, None)]

    assert await notifications.deliver_mail(notify.unit_of_work, config) == 3

    async def delivered() -> None:
        assert [len(mta.mailbox(u)) for u in ("ada", "bob", "carol")] == [1, 1, 1], mta.log()

    await eventually(delivered)
    (ada,), (bob,), (carol,) = (mta.mailbox(u) for u in ("ada", "bob", "carol"))
    assert (ada["From"], ada["Reply-To"]) == (DESK_A, DESK_A_REPLY_TO)
    assert ada["Message-ID"] == f"<{rows['ada'].id}@net.itsm.test>"
    assert ada.get_body(("plain",)).get_content().rstrip().endswith("Network Desk")
    assert (bob["From"], bob["Reply-To"]) == (DESK_B, None), "a desk without a Reply-To sends none"
    assert bob["Message-ID"] == f"<{rows['bob'].id}@hr.itsm.test>"
    assert bob.get_body(("plain",)).get_content().rstrip().endswith("People Desk")
    assert (carol["From"], carol["Reply-To"]) == (DESK, REPLY_TO)
    assert carol["Message-ID"] == f"<{rows['carol'].id}@itsm.test>"
    assert carol.get_body(("plain",)).get_content().rstrip().endswith(DESK)


async def test_a_digest_goes_from_the_desk_of_its_first_message(notify: Notify, mta: Mta) -> None:
    config = config_for(notify, mta, mail_desks=DESKS, mail_recipient_domain=mta.domain)
    await notifications.put_person(Person("bob", mta.address("bob"), digest="hourly"), "admin", notify.unit_of_work())
    await consume(
        notify,
        config,
        about("bob", "INC0000011", assignment_group="hr-ops"),
        about("bob", "INC0000012", service_id=NETWORK),
        about("bob", "INC0000013"),
    )
    waiting = await messages(notify)
    assert [m.digest for m in waiting] == [True, True, True]
    with clock.occurring_at(max(m.next_attempt_at for m in waiting) + timedelta(minutes=1)):
        assert await notifications.deliver_mail(notify.unit_of_work, config) == 1

    async def delivered() -> None:
        assert len(mta.mailbox("bob")) == 1, mta.log()

    await eventually(delivered)
    (digest,) = mta.mailbox("bob")
    assert digest["Subject"] == "3 notifications from the service desk"
    assert (digest["From"], digest["Reply-To"]) == (DESK_B, None)
    assert digest["Message-ID"] == f"<digest.{waiting[0].id}@hr.itsm.test>"
    assert digest.get_body(("plain",)).get_content().rstrip().endswith("People Desk")


async def test_the_resolution_mail_rendered_again_with_its_survey_link_keeps_its_desk(notify: Notify, mta: Mta) -> None:
    desk = with_mail(
        notify,
        mta,
        mail_desks=DESKS,
        survey_link_secret=SecretStr(SECRET),
        survey_page_url=PAGE,
        mail_survey_wait_s=600,
    )
    incident = uuid.uuid4()
    await desk.consume_with(worker.on_event, about("ada", "INC0000021", incident_id=incident, service_id=NETWORK))
    assert await send_all(desk) == 0, "the caller's mail waits for its survey"
    await desk.consume_with(worker.on_event, issued(incident, "ada"))
    assert await send_all(desk) == 1

    async def arrived() -> None:
        assert len(mta.mailbox("ada")) == 1, mta.log()

    await eventually(arrived)
    (mail,) = mta.mailbox("ada")
    text = mail.get_body(("plain",)).get_content()
    assert f"{PAGE}/" in text, "rendered again, with the link"
    assert (mail["From"], mail["Reply-To"]) == (DESK_A, DESK_A_REPLY_TO)
    assert text.rstrip().endswith("Network Desk")
