"""notify's `mail.received.v1` on the incident side, through a fake unit of work: a new message
opens an e-mail incident with the sender as caller, a reply comments on its incident (by number or
by id), a reply to a closed or unknown incident opens a new one, and a request goes to its
catalogue item (or to an incident when the item is gone)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from services.incident.domain.catalogue import CatalogueItem
from services.incident.domain.incident_lifecycle import Channel
from services.incident.domain.incidents import Incident
from services.incident.usecases.incidents import Act, cancel_incident
from services.incident.usecases.mail_intake import on_mail_received
from shared.events import incident as contracts
from shared.events.notify import MailAttachmentRef, MailReceived
from tests.incident.fakes import IncidentFakes, fake_unit_of_work

SERVICE = uuid4()
LAPTOP = CatalogueItem(uuid4(), "Laptop", "", SERVICE, False, None, "desktop", default_priority=3)


def received(action: str = "open", **values: Any) -> MailReceived:
    fields: dict[str, Any] = {
        "intake_id": uuid4(),
        "action": action,
        "sender": "ada@example.test",
        "subject": "Printer broken",
        "body": "It does not print.",
        "received_at": datetime.now(UTC),
        **values,
    }
    return MailReceived(**fields)


async def consume(f: IncidentFakes, data: MailReceived) -> None:
    """As the consumer runs a handler: it holds the unit of work and commits."""
    async with f.uow:
        await on_mail_received(data, f.uow)
        await f.uow.commit()


async def only_incident(f: IncidentFakes) -> Incident:
    (incident,) = f.incidents.rows.values()
    return incident


async def test_a_new_message_opens_an_email_incident_with_the_sender_as_caller() -> None:
    f = fake_unit_of_work()
    await consume(
        f,
        received(
            attachments=[
                MailAttachmentRef(attachment_id=uuid4(), filename="a.pdf", content_type="application/pdf", size=3)
            ],
            refused_attachments=1,
        ),
    )
    incident = await only_incident(f)
    assert (incident.caller, incident.title, incident.channel) == ("ada@example.test", "Printer broken", Channel.EMAIL)
    assert incident.description.startswith("It does not print.\n\n[attachments kept by the mail intake ")
    assert incident.description.endswith(": a.pdf; refused: 1]")
    assert len(f.sink.of_type(contracts.IncidentCreated)) == 1


async def test_a_long_subject_and_an_empty_one_make_a_title() -> None:
    f = fake_unit_of_work()
    await consume(f, received(subject="x" * 500, body=""))
    incident = await only_incident(f)
    assert incident.title == "x" * 200 and incident.description == "(no text)"
    g = fake_unit_of_work()
    await consume(g, received(subject=""))
    assert (await only_incident(g)).title == "(no subject)"


async def opened(f: IncidentFakes) -> Incident:
    await consume(f, received())
    return await only_incident(f)


async def test_a_reply_by_number_or_by_id_becomes_a_customer_comment() -> None:
    f = fake_unit_of_work()
    incident = await opened(f)
    await consume(f, received("comment", ticket_number=incident.number, body="Still broken."))
    await consume(f, received("comment", incident_id=incident.id, body="And now smoke."))
    assert len(f.incidents.rows.values()) == 1
    notes = sorted((n.text, n.visibility.value, n.author) for n in f.incidents.notes.values())
    assert notes == [
        ("And now smoke.", "customer", "ada@example.test"),
        ("Still broken.", "customer", "ada@example.test"),
    ]


async def test_a_reply_to_an_unknown_or_closed_incident_opens_a_new_one() -> None:
    f = fake_unit_of_work()
    await consume(f, received("comment", ticket_number="INC9999999"))
    await consume(f, received("comment", incident_id=UUID(int=7)))
    assert len(f.incidents.rows.values()) == 2 and list(f.incidents.notes.values()) == []

    g = fake_unit_of_work()
    incident = await opened(g)
    await cancel_incident(Act(incident.id, "bob"), g.uow, reason="duplicate")
    await consume(g, received("comment", ticket_number=incident.number))
    assert len(g.incidents.rows.values()) == 2 and list(g.incidents.notes.values()) == []


async def test_a_request_goes_to_its_catalogue_item_or_to_an_incident_when_it_is_gone() -> None:
    f = fake_unit_of_work(catalogue=(LAPTOP,))
    await consume(f, received(kind="request", catalogue_item_id=LAPTOP.id, subject="[REQ] New laptop"))
    (request,) = f.requests.rows.values()
    assert (request.requester, request.title) == ("ada@example.test", "[REQ] New laptop")
    assert list(f.incidents.rows.values()) == []

    g = fake_unit_of_work()
    await consume(g, received(kind="request", catalogue_item_id=uuid4()))
    assert len(g.incidents.rows.values()) == 1 and list(g.requests.rows.values()) == []
