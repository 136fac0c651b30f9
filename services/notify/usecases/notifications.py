"""Notification use cases: an event consumed -> one e-mail per matching rule and recipient,
rendered and queued in the consumer's transaction; the delivery pass that sends what is due, one
message per transaction (claimed across replicas, see `store.claims`), with retries; and the
administration of rules.

A message is rendered when its event comes (the delivery log then shows exactly what was sent,
and a template edited later does not change it) and queued once per event, rule and recipient
(a unique index: a redelivered event queues nothing twice). If the process dies after the mail
server accepted a message and before the commit, the next pass sends it again with the same
`Message-ID` (the message's id), by which a mail system can drop the repeat."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from uuid import UUID, uuid4

from services.notify.domain.deliveries import RetryPolicy
from services.notify.domain.desks import Desk, desk_for
from services.notify.domain.notifications import MessageStatus, Rule
from services.notify.domain.preferences import preferences_of, send_at, unsubscribe_token, verify_unsubscribe
from services.notify.domain.recipients import Person, Recipient, needs_directory
from services.notify.domain.surveys import SurveyLinks, waiting_caller
from services.notify.settings import NotifySettings
from services.notify.store import directory, mail
from services.notify.store import intake as intake_store
from services.notify.store import notifications as store
from shared import clock
from shared.errors import Conflict, RuleViolation, found
from shared.events import CloudEvent
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)
DIGEST_TEMPLATE = "digest"


@dataclass(frozen=True)
class MailConfig:
    smtp: mail.SmtpConfig
    retry: RetryPolicy
    locale: str
    recipient_domain: str
    desk: str
    max_per_pass: int = 100
    public_url: str = "http://localhost:8006"
    unsubscribe_secret: bytes = b""
    survey: SurveyLinks = field(default_factory=SurveyLinks)
    desks: tuple[Desk, ...] = ()
    """The service desks of `mail_desks`; empty: the default desk only."""

    @property
    def enabled(self) -> bool:
        return bool(self.smtp.host)

    @property
    def default_desk(self) -> Desk:
        """The desk of the mail about what no desk serves: `mail_from`, `mail_reply_to`."""
        return Desk(name=self.desk, sender=self.smtp.sender, reply_to=self.smtp.reply_to)


def mail_config_of(settings: NotifySettings) -> MailConfig:
    return MailConfig(
        smtp=mail.SmtpConfig(
            host=settings.mail_smtp_host,
            port=settings.mail_smtp_port,
            starttls=settings.mail_smtp_starttls,
            tls=settings.mail_smtp_tls,
            ca_file=settings.mail_smtp_ca_file,
            username=settings.mail_smtp_username,
            password=settings.mail_smtp_password.get_secret_value(),
            timeout_s=settings.mail_timeout_s,
            sender=settings.mail_from,
            reply_to=settings.mail_reply_to,
        ),
        retry=RetryPolicy(
            first_delay=timedelta(seconds=settings.mail_retry_first_s),
            max_delay=timedelta(seconds=settings.mail_retry_max_s),
            period=timedelta(seconds=settings.mail_retry_period_s),
        ),
        locale=settings.mail_locale,
        recipient_domain=settings.mail_recipient_domain,
        desk=settings.mail_from,
        max_per_pass=settings.mail_max_per_pass,
        public_url=settings.public_url.rstrip("/"),
        unsubscribe_secret=(
            settings.unsubscribe_secret.get_secret_value() or settings.jwt_secret.get_secret_value()
        ).encode(),
        survey=SurveyLinks(
            secret=settings.survey_link_secret.get_secret_value().encode(),
            page_url=settings.survey_page_url,
            wait=timedelta(seconds=settings.mail_survey_wait_s),
        ),
        desks=tuple(d.desk() for d in settings.mail_desks),
    )


async def on_event(event: CloudEvent, uow: UnitOfWork, config: MailConfig) -> int:
    """Queue the e-mails the enabled rules ask for this event; returns how many."""
    conn = uow.connection
    now = clock.now()
    default = config.default_desk
    desk = desk_for(event.data, config.desks, default)
    context: dict[str, Any] = {
        "data": event.data,
        "event": {"type": event.type, "subject": event.subject, "time": event.time},
        "desk": desk.name,
    }
    own_desk = desk is not default
    from_desk = {  # NULL: the default desk's, as the settings say when the message is sent
        "desk_name": desk.name if own_desk else None,
        "mail_from": desk.sender if own_desk else None,
        "mail_reply_to": desk.reply_to if own_desk else None,
    }
    rows = []
    matched = [r for r in await store.enabled_rules(conn) if r.matches(event.routing_key, event.data)]
    people = await directory.everyone(conn) if any(needs_directory(r.all_recipients) for r in matched) else []
    locale_of = {p.address.lower(): p.locale for p in people}
    quiet_of = {p.address.lower(): preferences_of(p) for p in people}
    gone = await store.unsubscribed(conn, [r.id for r in matched if not r.mandatory])
    caller = waiting_caller(event.routing_key, event.data, config.survey, people, config.recipient_domain)
    for rule in matched:
        recipients = rule.recipients(event.data, config.recipient_domain, people)
        if not recipients:
            log.info("rule %r matched %s but named no address", rule.name, event.id)
            continue
        rendered: dict[str, mail.Rendered] = {}
        for recipient in recipients:
            if (recipient.lower(), rule.id) in gone:
                continue
            due, digest = send_at(now, quiet_of.get(recipient.lower()), mandatory=rule.mandatory)
            if recipient.lower() == caller:  # its survey's link may come: see `usecases.surveys`
                due = max(due, now + config.survey.wait)
            locale = locale_of.get(recipient.lower(), config.locale)
            if locale not in rendered:
                try:
                    rendered[locale] = mail.render(rule.template, locale, context)
                except RuleViolation as exc:  # a template that fails must not hold up the event's other work
                    log.error("rule %r: template %r failed for %s: %s", rule.name, rule.template, event.id, exc.detail)
                    break
            parts = rendered[locale]
            rows.append(
                {
                    "id": uuid4(),
                    "rule_id": rule.id,
                    "event_id": event.id,
                    "event_type": event.type,
                    "record_id": event.subject,
                    "recipient": recipient,
                    "subject": parts.subject,
                    "text_body": parts.text,
                    "html_body": parts.html,
                    "status": MessageStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": due,
                    "digest": digest,
                    "created_at": now,
                    "unsubscribe_url": None if rule.mandatory else _unsubscribe_url(config, recipient, rule.id),
                    **from_desk,
                }
            )
    await store.queue_messages(conn, rows)
    return len(rows)


def _unsubscribe_url(config: MailConfig, address: str, rule_id: UUID) -> str:
    token = unsubscribe_token(address, rule_id, config.unsubscribe_secret)
    return f"{config.public_url}/notifications/unsubscribe?token={token}"


def _message_id(message_id: UUID, sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1].strip("> ") if "@" in sender else "itsm.invalid"
    return f"<{message_id}@{domain}>"


async def deliver_mail(unit_of_work: Callable[[], UnitOfWork], config: MailConfig) -> int:
    """Send what is due, one message per transaction, up to `max_per_pass`, over one SMTP
    connection for the pass; returns how many were sent. Nothing is sent while no SMTP host is set
    (messages stay queued)."""
    sent = 0
    if not config.enabled:
        return sent
    started = clock.now()  # what a pass tries: due when it started (a failure is not retried within it)
    async with mail.SmtpSession(config.smtp) as smtp:
        for _ in range(config.max_per_pass):
            outcome = await _send_one(unit_of_work, config, smtp, started)
            if outcome is None:
                break
            sent += outcome
    return sent


async def _send_one(
    unit_of_work: Callable[[], UnitOfWork], config: MailConfig, smtp: mail.SmtpSession, due_by: datetime
) -> bool | None:
    """Claim the next due message (with the rest of its recipient's digest when it waits for one),
    send it and record the attempt, in one transaction: whether the server took it, or None when
    nothing was due."""
    async with unit_of_work() as uow:
        conn = uow.connection
        due = await store.claim_due_message(conn, due_by)
        if due is None:
            return None
        batch = await store.due_digest(conn, due.recipient, due_by) if due.digest else [due]
        ids = [m.id for m in batch] or [due.id]
        if (bounce := await intake_store.bounced(conn, due.recipient)) is not None:
            reason = f"held: {due.recipient} bounced ({bounce.status} {bounce.diagnostic})".strip()[:500]
            await store.update_messages(
                conn, ids, {"status": MessageStatus.HELD.value, "last_error": reason, "next_attempt_at": None}
            )
            await uow.commit()
            return False
        error = await smtp.send(_message_of(config, due, batch))
        now = clock.now()
        attempted = config.retry.after_attempt(due.attempts, due.first_attempt_at, now, error)
        values: dict[str, Any] = attempted.values()
        if attempted.succeeded:
            values |= {"status": MessageStatus.SENT.value, "sent_at": now}
        else:
            if attempted.gave_up:
                values["status"] = MessageStatus.FAILED.value
            log.warning("mail %s (%d messages): attempt %d failed (%s)", due.id, len(ids), attempted.attempts, error)
        await store.update_messages(conn, ids, values)
        await uow.commit()
    return error is None


def desk_of(config: MailConfig, message: Any) -> Desk:
    """The desk a queued message goes from: the one stored with it, or the default desk (NULL)."""
    if message.mail_from is None:
        return config.default_desk
    return Desk(name=message.desk_name or config.desk, sender=message.mail_from, reply_to=message.mail_reply_to or "")


def _message_of(config: MailConfig, due: Any, batch: list[Any]) -> EmailMessage:
    """The mail for a claimed message: itself, or the digest of the messages gathered with it (one
    mail listing each one's subject and plain text, without an unsubscribe link: its messages may
    come from several rules; its own Message-ID, which matches no single message's record). Both
    go from the claimed message's desk: a digest, from the desk of its first message."""
    desk = desk_of(config, due)
    if len(batch) <= 1:
        return mail.message_of(
            desk.sender,
            desk.reply_to,
            due.recipient,
            due.subject,
            due.text_body,
            due.html_body,
            _message_id(due.id, desk.sender),
            unsubscribe_url=due.unsubscribe_url,
        )
    items = [{"subject": m.subject, "text": m.text_body} for m in batch]
    parts = mail.render(DIGEST_TEMPLATE, config.locale, {"items": items, "desk": desk.name})
    message_id = _message_id(due.id, desk.sender).replace("<", "<digest.", 1)
    return mail.message_of(desk.sender, desk.reply_to, due.recipient, parts.subject, parts.text, parts.html, message_id)


@dataclass(frozen=True)
class NewRule:
    name: str
    event_pattern: str
    template: str
    recipient_fields: list[str]
    data_filter: dict[str, Any]
    enabled: bool = True
    recipients: list[Recipient] = field(default_factory=list)
    mandatory: bool = False


async def create_rule(cmd: NewRule, actor: str, uow: UnitOfWork) -> Rule:
    """A new rule (422 for a bad pattern, field or unknown template; 409 for a name in use)."""
    rule = Rule.new(
        id=uuid4(),
        name=cmd.name,
        event_pattern=cmd.event_pattern,
        template=cmd.template,
        recipient_fields=list(cmd.recipient_fields),
        data_filter=dict(cmd.data_filter),
        enabled=cmd.enabled,
        targets=list(cmd.recipients),
        mandatory=cmd.mandatory,
        created_by=actor,
        created_at=clock.now(),
    )
    if not mail.template_exists(rule.template):
        raise RuleViolation(f"no template {rule.template!r}", field="template")
    async with uow:
        if await store.rule_named(uow.connection, rule.name) is not None:
            raise Conflict(f"a rule named {rule.name!r} exists")
        await store.add_rule(uow.connection, rule)
        await uow.commit()
    return rule


async def set_rule_enabled(rule_id: UUID, enabled: bool, uow: UnitOfWork) -> Rule:
    """Turn a rule on or off (a disabled rule matches no event; what it queued before still goes)."""
    async with uow:
        found(await store.get_rule(uow.connection, rule_id), f"rule {rule_id}")
        await store.set_rule_enabled(uow.connection, rule_id, enabled)
        rule = found(await store.get_rule(uow.connection, rule_id), f"rule {rule_id}")
        await uow.commit()
    return rule


async def delete_rule(rule_id: UUID, uow: UnitOfWork) -> None:
    async with uow:
        found(await store.get_rule(uow.connection, rule_id), f"rule {rule_id}")
        await store.delete_rule(uow.connection, rule_id)
        await uow.commit()


async def put_person(person: Person, actor: str, uow: UnitOfWork) -> Any:
    """Add a person to the directory, or replace the one with that user name; the stored row."""
    async with uow:
        await directory.put_person(uow.connection, person, actor, clock.now())
        row = await directory.get_person(uow.connection, person.username)
        await uow.commit()
    return row


async def delete_person(username: str, uow: UnitOfWork) -> None:
    async with uow:
        if not await directory.delete_person(uow.connection, username):
            found(None, f"person {username}")
        await uow.commit()


async def unsubscribe(token: str, secret: bytes, uow: UnitOfWork) -> None:
    """Record the unsubscription a signed link asks for: 404 for a link not valid (or a rule gone),
    409 for a mandatory rule (its mail carries no link, but a rule may have become mandatory)."""
    verified = verify_unsubscribe(token, secret)
    if verified is None:
        found(None, "unsubscribe link")
        return
    address, rule_id = verified
    async with uow:
        rule = found(await store.get_rule(uow.connection, rule_id), f"rule {rule_id}")
        if rule.mandatory:
            raise Conflict(f"rule {rule.name!r} is mandatory: it cannot be unsubscribed")
        await store.add_unsubscription(uow.connection, address, rule_id, clock.now())
        await uow.commit()
