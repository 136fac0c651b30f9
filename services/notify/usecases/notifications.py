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
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from services.notify.domain.deliveries import RetryPolicy
from services.notify.domain.notifications import MessageStatus, Rule
from services.notify.settings import NotifySettings
from services.notify.store import intake as intake_store
from services.notify.store import mail
from services.notify.store import notifications as store
from shared import clock
from shared.errors import Conflict, RuleViolation, found
from shared.events import CloudEvent
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailConfig:
    smtp: mail.SmtpConfig
    retry: RetryPolicy
    locale: str
    recipient_domain: str
    desk: str
    max_per_pass: int = 100

    @property
    def enabled(self) -> bool:
        return bool(self.smtp.host)


def mail_config_of(settings: NotifySettings) -> MailConfig:
    return MailConfig(
        smtp=mail.SmtpConfig(
            host=settings.mail_smtp_host,
            port=settings.mail_smtp_port,
            starttls=settings.mail_smtp_starttls,
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
    )


async def on_event(event: CloudEvent, uow: UnitOfWork, config: MailConfig) -> int:
    """Queue the e-mails the enabled rules ask for this event; returns how many."""
    conn = uow.connection
    now = clock.now()
    context: dict[str, Any] = {
        "data": event.data,
        "event": {"type": event.type, "subject": event.subject, "time": event.time},
        "desk": config.desk,
    }
    rows = []
    for rule in await store.enabled_rules(conn):
        if not rule.matches(event.routing_key, event.data):
            continue
        recipients = rule.recipients(event.data, config.recipient_domain)
        if not recipients:
            log.info("rule %r matched %s but named no address", rule.name, event.id)
            continue
        try:
            rendered = mail.render(rule.template, config.locale, context)
        except RuleViolation as exc:  # a template that fails must not hold up the event's other work
            log.error("rule %r: template %r failed for %s: %s", rule.name, rule.template, event.id, exc.detail)
            continue
        for recipient in recipients:
            rows.append(
                {
                    "id": uuid4(),
                    "rule_id": rule.id,
                    "event_id": event.id,
                    "event_type": event.type,
                    "record_id": event.subject,
                    "recipient": recipient,
                    "subject": rendered.subject,
                    "text_body": rendered.text,
                    "html_body": rendered.html,
                    "status": MessageStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    await store.queue_messages(conn, rows)
    return len(rows)


def _message_id(message_id: UUID, sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1].strip("> ") if "@" in sender else "itsm.invalid"
    return f"<{message_id}@{domain}>"


async def deliver_mail(unit_of_work: Callable[[], UnitOfWork], config: MailConfig) -> int:
    """Send what is due, one message per transaction, up to `max_per_pass`; returns how many were
    sent. Nothing is sent while no SMTP host is set (messages stay queued)."""
    sent = 0
    if not config.enabled:
        return sent
    started = clock.now()  # what a pass tries: due when it started (a failure is not retried within it)
    for _ in range(config.max_per_pass):
        async with unit_of_work() as uow:
            conn = uow.connection
            due = await store.claim_due_message(conn, started)
            if due is None:
                break
            if (bounce := await intake_store.bounced(conn, due.recipient)) is not None:
                reason = f"held: {due.recipient} bounced ({bounce.status} {bounce.diagnostic})".strip()[:500]
                await store.update_message(
                    conn, due.id, {"status": MessageStatus.HELD.value, "last_error": reason, "next_attempt_at": None}
                )
                await uow.commit()
                continue
            message = mail.message_of(
                config.smtp,
                due.recipient,
                due.subject,
                due.text_body,
                due.html_body,
                _message_id(due.id, config.smtp.sender),
            )
            error = await mail.send(config.smtp, message)
            now = clock.now()
            attempts = due.attempts + 1
            first = due.first_attempt_at or now
            values: dict[str, Any] = {
                "attempts": attempts,
                "first_attempt_at": first,
                "last_attempt_at": now,
                "last_error": error,
            }
            if error is None:
                values |= {"status": MessageStatus.SENT.value, "sent_at": now, "next_attempt_at": None}
                sent += 1
            else:
                retry_at = config.retry.next_attempt(attempts, first, now)
                values["next_attempt_at"] = retry_at
                if retry_at is None:
                    values["status"] = MessageStatus.FAILED.value
                log.warning("mail %s: attempt %d failed (%s)", due.id, attempts, error)
            await store.update_message(conn, due.id, values)
            await uow.commit()
    return sent


@dataclass(frozen=True)
class NewRule:
    name: str
    event_pattern: str
    template: str
    recipient_fields: list[str]
    data_filter: dict[str, Any]
    enabled: bool = True


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


async def delete_rule(rule_id: UUID, uow: UnitOfWork) -> None:
    async with uow:
        found(await store.get_rule(uow.connection, rule_id), f"rule {rule_id}")
        await store.delete_rule(uow.connection, rule_id)
        await uow.commit()
