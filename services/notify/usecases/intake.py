"""E-mail intake: the `mail-intake` job's pass over the desk's mailbox. Each unseen message is
fetched, parsed and judged (`domain.intake`), and recorded by its IMAP UID (with the folder's
UIDVALIDITY) TOGETHER with its effect, in one transaction: the `mail.received.v1` event for the
incident service (a new ticket, or a customer comment on the ticket it answers), the bounced
recipients of a DSN, the attachments stored or refused. Only after the commit is the message
marked on the server (`\\Seen`, or moved). A crash between fetch and commit leaves no record: the
next pass fetches the same UID again and takes it once. A crash after the commit and before the
mark leaves the record: the next pass finds it, marks the message and does nothing else. Two
replicas fetching the same UID write one record (a unique index; the second insert writes
nothing), so one event.

With `idle_s` set and a server that offers IDLE, a pass that emptied the folder waits there for
new mail up to that long and takes it at once (else the next pass, `interval_s` later, does)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from services.notify.domain.intake import (
    IntakePolicy,
    Outcome,
    Parsed,
    attachment_refusal,
    classify,
    kind_of,
    parse,
    request_number,
    request_reply_detail,
    sent_message_uuid,
    ticket_number,
)
from services.notify.settings import NotifySettings
from services.notify.store import intake as store
from services.notify.store.imap import IMAP_FAILURES, ImapConfig, Mailbox
from services.notify.store.oauth import OAuthConfig
from shared import clock
from shared.events import CloudEvent
from shared.events.notify import MailAttachmentRef, MailReceived
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
INCIDENT_EVENTS = "itsm.incident."
REQUEST_EVENTS = "itsm.request."
REQUEST = "request"
"""What `_answered_record` says for a reply to a message notify sent about a service request."""
INCIDENT_CREATED = "itsm.incident.created.v1"
MAX_ATTACHMENTS = 50


@dataclass(frozen=True)
class IntakeConfig:
    imap: ImapConfig
    policy: IntakePolicy
    max_per_pass: int = 50
    max_message_bytes: int = 25 * 1024 * 1024
    max_body_chars: int = 20_000
    attachment_max_bytes: int = 5 * 1024 * 1024
    attachment_types: tuple[str, ...] = ("image/*", "text/plain", "application/pdf")
    request_addresses: tuple[str, ...] = ()
    request_item: UUID | None = None
    idle_s: float = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.imap.host)


def intake_config_of(settings: NotifySettings) -> IntakeConfig:
    return IntakeConfig(
        imap=ImapConfig(
            host=settings.mail_imap_host,
            port=settings.mail_imap_port,
            tls=settings.mail_imap_tls,
            starttls=settings.mail_imap_starttls,
            ca_file=settings.mail_imap_ca_file,
            username=settings.mail_imap_username,
            password=settings.mail_imap_password.get_secret_value(),
            folder=settings.mail_imap_folder,
            processed_folder=settings.mail_imap_processed_folder,
            timeout_s=settings.mail_imap_timeout_s,
            oauth=_oauth_config_of(settings),
        ),
        policy=IntakePolicy(
            sender_policy=settings.mail_intake_sender_policy,
            allowed_domains=tuple(settings.mail_intake_allowed_domains),
            max_per_sender_per_hour=settings.mail_intake_max_per_sender_per_hour,
        ),
        max_per_pass=settings.mail_intake_max_per_pass,
        max_message_bytes=settings.mail_intake_max_message_bytes,
        max_body_chars=settings.mail_intake_max_body_chars,
        attachment_max_bytes=settings.mail_intake_attachment_max_bytes,
        attachment_types=tuple(settings.mail_intake_attachment_types),
        request_addresses=tuple(settings.mail_intake_request_addresses),
        request_item=settings.mail_intake_request_item,
        idle_s=settings.mail_intake_idle_s,
    )


def _oauth_config_of(settings: NotifySettings) -> OAuthConfig | None:
    if settings.mail_imap_auth != "xoauth2":
        return None
    return OAuthConfig(
        token=settings.mail_imap_oauth_token.get_secret_value(),
        token_url=settings.mail_imap_oauth_token_url,
        client_id=settings.mail_imap_oauth_client_id,
        client_secret=settings.mail_imap_oauth_client_secret.get_secret_value(),
        scope=settings.mail_imap_oauth_scope,
        timeout_s=settings.mail_imap_timeout_s,
    )


async def run_pass(unit_of_work: Callable[[], UnitOfWork], config: IntakeConfig) -> int:
    """One pass of the `mail-intake` job; returns how many messages it recorded. Nothing while no
    IMAP host is set."""
    taken = 0
    if not config.enabled:
        return taken
    try:
        async with Mailbox(config.imap) as box:
            taken = await _drain(box, unit_of_work, config)
            may_idle = config.idle_s > 0 and taken < config.max_per_pass and box.supports_idle
            if may_idle and await box.wait_for_mail(config.idle_s):
                taken += await _drain(box, unit_of_work, config)
    except IMAP_FAILURES as exc:
        log.warning("mail intake: %s: %s", type(exc).__name__, exc)
    return taken


async def _drain(box: Mailbox, unit_of_work: Callable[[], UnitOfWork], config: IntakeConfig) -> int:
    folder = config.imap.folder
    unseen = await box.unseen()
    async with unit_of_work() as uow:
        recorded = await store.recorded_uids(uow.connection, folder, box.uidvalidity, unseen.keys())
    for uid in sorted(recorded):  # taken before, not marked (a crash after the commit): mark it now
        await box.done(uid)
    taken = 0
    for uid, size in unseen.items():
        if uid in recorded:
            continue
        if taken >= config.max_per_pass:
            break
        raw = await box.fetch(uid) if size <= config.max_message_bytes else None
        async with unit_of_work() as uow:
            written = await take_in(
                uow, config, folder=folder, uidvalidity=box.uidvalidity, uid=uid, raw=raw, size=size
            )
            await uow.commit()
        await box.done(uid)
        taken += int(written)
    return taken


async def take_in(
    uow: UnitOfWork, config: IntakeConfig, *, folder: str, uidvalidity: int, uid: int, raw: bytes | None, size: int
) -> bool:
    """Record one fetched message and its effect in `uow` (the caller commits); False when its UID
    was recorded already (nothing written). `raw` None: too large, or gone from the server."""
    conn = uow.connection
    now = clock.now()
    intake_id = uuid4()
    row: dict[str, Any] = {
        "id": intake_id,
        "folder": folder,
        "uidvalidity": uidvalidity,
        "uid": uid,
        "message_id": None,
        "sender": "",
        "subject": "",
        "received_at": now,
    }
    try:
        parsed = parse(raw, max_body_chars=config.max_body_chars) if raw is not None else None
    except Exception as exc:  # a message the parser cannot take must not stop the mailbox
        log.warning("mail intake: UID %d unreadable: %s", uid, exc)
        parsed = None
    if parsed is None:
        detail = f"{size} bytes, over the limit" if raw is None and size else "the message could not be read"
        return await store.record(conn, row | {"outcome": Outcome.ERROR.value, "detail": detail})

    row |= {"message_id": parsed.message_id, "sender": parsed.sender, "subject": parsed.subject}
    number = ticket_number(parsed.subject)
    answered = await _answered_record(uow, parsed)
    incident_id = answered if isinstance(answered, UUID) else None
    request = request_number(parsed.subject) if number is None and incident_id is None else None
    since = now - timedelta(hours=1)
    outcome = classify(
        parsed,
        config.policy,
        answers_ticket=number is not None or incident_id is not None,
        answers_request=request is not None or answered == REQUEST,
        sent_last_hour=await store.sent_from_sender_since(conn, parsed.sender, since) if parsed.sender else 0,
    )
    number = number or (request if outcome is Outcome.REQUEST_REPLY else None)
    kind = kind_of(parsed.subject, parsed.recipients, config.request_addresses) if outcome is Outcome.OPENED else None
    row |= {"outcome": outcome.value, "kind": kind, "ticket_number": number, "incident_id": incident_id}
    row["detail"] = _detail(outcome, parsed, config)
    if not await store.record(conn, row):
        return False
    if outcome is Outcome.BOUNCE:
        for bounce in parsed.bounces or []:
            await store.mark_bounced(conn, bounce, now, intake_id)
    if outcome in (Outcome.OPENED, Outcome.COMMENTED):
        kept, refused = await _attachments(uow, config, intake_id, parsed)
        event = uow.emit(
            MailReceived(
                intake_id=intake_id,
                action="open" if outcome is Outcome.OPENED else "comment",
                kind="request" if kind == "request" and config.request_item else "incident",
                catalogue_item_id=config.request_item if kind == "request" else None,
                sender=parsed.sender,
                subject=parsed.subject,
                body=parsed.body,
                message_id=parsed.message_id,
                ticket_number=number,
                incident_id=incident_id,
                attachments=kept,
                refused_attachments=refused,
                received_at=now,
            ),
            subject=str(intake_id),
        )
        await store.set_event(conn, intake_id, event.id)
    return True


async def _answered_record(uow: UnitOfWork, parsed: Parsed) -> UUID | str | None:
    """What a message answers by its `In-Reply-To`/`References` (one notify sent about it): the
    incident's id, `REQUEST` for a message about a service request, or None."""
    sent = [u for u in (sent_message_uuid(m) for m in parsed.references) if u is not None]
    found = await store.record_of_sent(uow.connection, sent)
    if found is not None and found[0].startswith(REQUEST_EVENTS):
        return REQUEST
    if found is None or not found[0].startswith(INCIDENT_EVENTS):
        return None
    try:
        return UUID(found[1])
    except ValueError:
        return None


def _detail(outcome: Outcome, parsed: Parsed, config: IntakeConfig) -> str:
    if outcome is Outcome.BOUNCE:
        failed = ", ".join(b.recipient for b in parsed.bounces or []) or "no failed recipient named"
        return f"delivery failed to: {failed}"[:500]
    if outcome is Outcome.AUTO_REPLY:
        return parsed.auto_reply or "no sender address"
    if outcome is Outcome.REJECTED_SENDER:
        return f"sender domain not allowed ({config.policy.sender_policy.value})"
    if outcome is Outcome.REQUEST_REPLY:
        return request_reply_detail(request_number(parsed.subject))
    if outcome is Outcome.RATE_LIMITED:
        return f"more than {config.policy.max_per_sender_per_hour} messages from this sender within the hour"
    return ""


async def _attachments(
    uow: UnitOfWork, config: IntakeConfig, intake_id: UUID, parsed: Parsed
) -> tuple[list[MailAttachmentRef], int]:
    rows, kept, refused = [], [], 0
    for index, item in enumerate(parsed.attachments):
        reason = (
            f"more than {MAX_ATTACHMENTS} attachments in one message"
            if index >= MAX_ATTACHMENTS
            else attachment_refusal(
                item.content_type, len(item.data), config.attachment_types, config.attachment_max_bytes
            )
        )
        attachment_id = uuid4()
        rows.append(
            {
                "id": attachment_id,
                "intake_id": intake_id,
                "filename": item.filename[:255],
                "content_type": item.content_type[:255],
                "size": len(item.data),
                "status": "refused" if reason else "stored",
                "reason": reason,
                "content": None if reason else item.data,
            }
        )
        if reason:
            refused += 1
        else:
            kept.append(
                MailAttachmentRef(
                    attachment_id=attachment_id,
                    filename=item.filename[:255],
                    content_type=item.content_type[:255],
                    size=len(item.data),
                )
            )
    await store.add_attachments(uow.connection, rows)
    return kept, refused


async def clear_bounce(address: str, uow: UnitOfWork) -> bool:
    """Forget a bounced recipient (no error when it is not one: afterwards it is not, either way);
    its held messages are due again. True when there was one."""
    async with uow:
        cleared = await store.clear_bounced(uow.connection, address, clock.now())
        await uow.commit()
    return cleared


async def forget_old_intake(uow: UnitOfWork, retention: timedelta) -> int:
    """Forget intake records (and their attachments) older than `retention`: the store stays bounded.
    A message still in the folder is not taken again (it was marked when it was taken)."""
    async with uow:
        forgotten = await store.forget_before(uow.connection, clock.now() - retention)
        await uow.commit()
    return forgotten


async def on_incident_created(event: CloudEvent, uow: UnitOfWork) -> None:
    """An `incident.created.v1` of channel `email`: the intake log's message that opened it gets its
    number (matched by caller = sender and title = subject, the oldest waiting first), so the log
    reads "opened INC0001234". The incident service draws the number; this is how it comes back."""
    data = event.data
    if event.type != INCIDENT_CREATED or data.get("channel") != "email":
        return
    number, caller, title = data.get("number"), data.get("caller"), data.get("title")
    try:
        incident_id = UUID(str(data.get("incident_id")))
    except ValueError:
        return
    if isinstance(number, str) and isinstance(caller, str) and isinstance(title, str):
        await store.note_opened(uow.connection, caller, title, number, incident_id)
