"""E-mail intake on the incident side: notify's `mail.received.v1` (a message accepted from the
desk's mailbox), consumed through the inbox (once), opens an incident (or a request, when notify's
rules said so and named a catalogue item) with the sender as caller, or adds the message as a
customer comment to the incident it answers. A reply to an incident that is closed, or to a number
that does not exist, opens a new incident (the caller's message is never dropped). The consumer
holds the unit of work and commits. A mailed-in incident starts at impact and urgency low (the
lowest priority): the desk triages it like a call."""

from __future__ import annotations

import logging

from services.incident.domain.incident_lifecycle import DEFAULT_POLICY, Channel, NoteVisibility
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import Impact, Urgency
from services.incident.domain.timeline import write_note
from services.incident.store.incidents import IncidentRepository
from services.incident.usecases.incidents import OpenIncident, record_incident
from services.incident.usecases.requests import SubmitRequest, record_request
from shared import clock
from shared.errors import DomainError, RuleViolation
from shared.events.notify import MailReceived
from shared.uow import AnyUnitOfWork

log = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_CALLER = 200
MAX_TEXT = 20_000


def _text(data: MailReceived) -> str:
    text = data.body.strip() or "(no text)"
    if data.attachments or data.refused_attachments:
        names = ", ".join(a.filename for a in data.attachments) or "none"
        text += f"\n\n[attachments kept by the mail intake {data.intake_id}: {names}"
        text += f"; refused: {data.refused_attachments}]" if data.refused_attachments else "]"
    return text[:MAX_TEXT]


async def _answered(data: MailReceived, incidents: IncidentRepository) -> Incident | None:
    incident_id = data.incident_id
    if incident_id is None and data.ticket_number:
        incident_id = await incidents.id_of_number(data.ticket_number)
    return None if incident_id is None else await incidents.get(incident_id, for_update=True)


async def on_mail_received(data: MailReceived, uow: AnyUnitOfWork) -> None:
    incidents = uow.repository(IncidentRepository)
    if data.action == "comment" and (incident := await _answered(data, incidents)) is not None:
        try:
            note = write_note(
                incident,
                text=_text(data),
                visibility=NoteVisibility.CUSTOMER,
                author=data.sender[:MAX_CALLER],
                now=clock.now(),
            )
        except DomainError as exc:  # closed or cancelled: the message opens a new incident instead
            log.info(
                "mail %s answers %s, which takes no comment (%s): opening one", data.intake_id, incident.number, exc
            )
        else:
            await incidents.add_note(note)
            return
    title = (data.subject or "(no subject)")[:MAX_TITLE]
    if data.kind == "request" and data.catalogue_item_id is not None:
        cmd_request = SubmitRequest(
            data.catalogue_item_id, data.sender[:MAX_CALLER], title=title, description=_text(data)
        )
        try:
            await record_request(cmd_request, uow)
        except RuleViolation as exc:  # an item that is gone: checked before anything is written
            log.warning("mail %s: no request (%s): opening an incident", data.intake_id, exc.detail)
        else:
            return
    policy = getattr(getattr(uow, "settings", None), "policy", DEFAULT_POLICY)
    cmd = OpenIncident(
        title=title,
        description=_text(data),
        caller=data.sender[:MAX_CALLER],
        channel=Channel.EMAIL,
        impact=Impact.LOW,
        urgency=Urgency.LOW,
    )
    await record_incident(cmd, uow, policy)
