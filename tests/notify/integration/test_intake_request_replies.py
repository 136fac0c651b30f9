"""Replies about service requests, through a real Dovecot (and a real Exim for the message they
answer): requests take no comments, so a reply naming a request number (`REQ...`) in its subject,
or answering by `In-Reply-To` the acknowledgement notify sent for a request, is recorded in the
intake log as `request_reply` with the reason and refused: no `mail.received.v1`, no incident
opened. An incident number in the subject still makes a comment, and the `[REQ]` tag (no number)
still asks for a new ticket."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest

from services.incident.settings import IncidentSettings
from services.notify.usecases import intake
from shared.events import new_event
from shared.events.incident import RequestSubmitted
from tests.infra import Servers, create_service_database
from tests.notify.helpers import Notify
from tests.notify.imap import DOVECOT, Imap
from tests.notify.integration import test_intake as base
from tests.notify.integration.test_intake import (
    append,
    config_for,
    incidents_of,
    intake_log,
    mail,
    notify_database,
    received_events,
    sender,
    to_incident,
)
from tests.notify.mta import EXIM, exim

# The intake module's fixtures (one Dovecot for this module too), on databases of this module's own.
imap = base.imap
notify = base.notify
incident_settings = base.incident_settings
incident_engine = base.incident_engine


@pytest.fixture(scope="module")
async def notify_module(servers: Servers, make_settings: Callable[..., Any]) -> AsyncIterator[Notify]:
    async with notify_database(servers, make_settings, "mailreq") as notify:
        yield notify


@pytest.fixture(scope="module")
async def incident_db(servers: Servers) -> str:
    return await create_service_database(servers, "incident", label="mailreq")


pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(DOVECOT is None, reason="Dovecot (dovecot-imapd) is not installed"),
]


async def acknowledgement(notify: Notify, requester: str, number: str) -> EmailMessage:
    """The request's acknowledgement as notify sends it (the default rule), received through Exim."""
    user = requester.split("@")[0]
    now = datetime.now(UTC)
    data = RequestSubmitted(
        request_id=uuid.uuid4(),
        number=number,
        status="submitted",
        catalogue_item="New laptop",
        requester=requester,
        priority=4,
        actor=requester,
        occurred_at=now,
        submitted_at=now,
    )
    event = new_event(data, source="/itsm/incident", subject=str(data.request_id))
    with exim([user]) as mta:
        return await base.sent_through(notify, mta, event, requester)


async def test_a_reply_about_a_request_is_recorded_and_refused_with_the_reason(
    notify: Notify, imap: Imap, incident_settings: IncidentSettings, incident_engine: Any
) -> None:
    if EXIM is None:
        pytest.skip("Exim (exim4-daemon-light) is not installed")
    ada = sender()
    sent = await acknowledgement(notify, ada, "REQ0000012")
    append(
        imap,
        mail(ada, f"Re: {sent['Subject']}", "Any news on my laptop?"),
        mail(ada, "Re: your mail", "And the docking station?", In_Reply_To=sent["Message-ID"]),
        mail(ada, "[REQ] A second monitor"),
    )
    assert await intake.run_pass(notify.unit_of_work, config_for(notify, imap)) == 3
    log = await intake_log(notify)
    assert [(r.outcome, r.ticket_number) for r in log] == [
        ("request_reply", "REQ0000012"),
        ("request_reply", None),
        ("opened", None),
    ]
    assert log[0].detail.startswith("a reply about request REQ0000012: service requests take no comments")
    assert log[1].detail.startswith("a reply about a service request: service requests take no comments")
    assert log[0].event_id is None and log[1].event_id is None, "nothing is sent on"
    assert [e.data["subject"] for e in await received_events(notify)] == ["[REQ] A second monitor"]
    assert await to_incident(notify, incident_settings, incident_engine) == 1
    assert [i.title for i in await incidents_of(incident_engine, ada)] == ["[REQ] A second monitor"], (
        "the replies opened no incident"
    )


async def test_an_incident_number_still_makes_a_comment_when_a_request_number_is_there_too(
    notify: Notify, imap: Imap
) -> None:
    ada = sender()
    append(imap, mail(ada, "Re: [INC0000077] laptop, see also REQ0000012"))
    assert await intake.run_pass(notify.unit_of_work, config_for(notify, imap)) == 1
    assert [(r.outcome, r.ticket_number) for r in await intake_log(notify)] == [("commented", "INC0000077")]
