"""The notify service's tables (SQLAlchemy Core). Migrations: services/notify/migrations/."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Uuid,
    false,
)

from shared.db import BigIntKey, UtcDateTime
from shared.idempotency import idempotency_table
from shared.retention_store import retention_tables
from shared.store import service_tables

metadata, outbox, inbox, number_sequence = service_tables()
idempotency_key = idempotency_table(metadata)
retention = retention_tables(metadata)
"""Records control (4.3.3): retention policies, legal holds, the disposal log."""

# Every event the service consumed, as it came (its CloudEvent JSON): what a replay sends again.
received_event = Table(
    "received_event",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("type", String(200), nullable=False, index=True),
    Column("subject", String(200), nullable=True),
    Column("time", UtcDateTime, nullable=False, index=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("body", Text, nullable=False),
)

webhook_subscription = Table(
    "webhook_subscription",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("url", String(2000), nullable=False),
    Column("event_pattern", String(255), nullable=False),
    Column("subject_filter", String(200), nullable=True),
    Column("data_filter", JSON, nullable=False),
    Column("description", String(500), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("secret", String(100), nullable=False),
    Column("previous_secret", String(100), nullable=True),
    Column("previous_secret_until", UtcDateTime, nullable=True),
    Column("disabled_at", UtcDateTime, nullable=True),
    Column("disabled_reason", String(500), nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("channel", String(20), nullable=False, server_default="webhook"),
    Column("template", String(100), nullable=True),
)

# One event to one subscription: pending until delivered, or failed when the retry period ran out.
webhook_delivery = Table(
    "webhook_delivery",
    metadata,
    Column("seq", BigIntKey, primary_key=True, autoincrement=True),
    Column("id", Uuid, nullable=False, unique=True),
    Column("subscription_id", Uuid, ForeignKey("webhook_subscription.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("event_time", UtcDateTime, nullable=False),
    Column("ordering_key", String(220), nullable=False),
    Column("replay", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("first_attempt_at", UtcDateTime, nullable=True),
    Column("last_attempt_at", UtcDateTime, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    Index("ix_webhook_delivery_order", "subscription_id", "ordering_key", "status"),
    Index("ix_webhook_delivery_event", "subscription_id", "event_id"),
)

# The delivery log: every POST, with the status code, how long it took and what the receiver answered.
webhook_attempt = Table(
    "webhook_attempt",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("delivery_id", Uuid, ForeignKey("webhook_delivery.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Column("response_excerpt", Text, nullable=True),
)

# Notification rules: an event type (and filter) -> a template, sent to the addresses in named fields.
notification_rule = Table(
    "notification_rule",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("event_pattern", String(255), nullable=False),
    Column("data_filter", JSON, nullable=False),
    Column("template", String(100), nullable=False),
    Column("recipient_fields", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # [{"kind": ..., "value": ...}] (domain/recipients.py), beside the older recipient_fields
    Column("recipients", JSON, nullable=False, server_default="[]"),
    Column("mandatory", Boolean, nullable=False, server_default=false()),
)

# The directory notify owns (admins keep it by API): who a group, role, the CAB, a supplier's
# contact or a customer's relationship manager is, and where to write to them.
directory_person = Table(
    "directory_person",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("address", String(320), nullable=False),
    Column("groups", JSON, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("suppliers", JSON, nullable=False),
    Column("customers", JSON, nullable=False),
    Column("locale", String(10), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("quiet_start", String(5), nullable=True),
    Column("quiet_end", String(5), nullable=True),
    Column("digest", String(10), nullable=False, server_default="off"),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One e-mail, rendered when its event came, and its delivery log (state, attempts, last error).
mail_message = Table(
    "mail_message",
    metadata,
    Column("seq", BigIntKey, primary_key=True, autoincrement=True),
    Column("id", Uuid, nullable=False, unique=True),
    Column("rule_id", Uuid, ForeignKey("notification_rule.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(200), nullable=False),
    # The record the event was about (its CloudEvents subject): a reply to this message is matched to it.
    Column("record_id", String(200), nullable=True),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("first_attempt_at", UtcDateTime, nullable=True),
    Column("last_attempt_at", UtcDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("unsubscribe_url", String(1000), nullable=True),
    # Waits for its recipient's digest: sent gathered with the others due then, in one mail.
    Column("digest", Boolean, nullable=False, server_default=false()),
    # The service desk it goes from (its name, From and Reply-To, chosen when it was queued);
    # NULL: the default desk of the settings (`mail_from`, `mail_reply_to`).
    Column("desk_name", String(100), nullable=True),
    Column("mail_from", String(320), nullable=True),
    Column("mail_reply_to", String(320), nullable=True),
    Index("ix_mail_message_due", "status", "next_attempt_at"),
    Index("uq_mail_message_once", "event_id", "rule_id", "recipient", unique=True),
)

# E-mail intake: one row per message fetched from the desk's mailbox (its IMAP UID within the
# folder's UIDVALIDITY, unique), written in the same transaction as the message's effect (the
# `mail.received.v1` event, the bounced recipients): a message fetched again finds its row.
mail_intake = Table(
    "mail_intake",
    metadata,
    Column("seq", BigIntKey, primary_key=True, autoincrement=True),
    Column("id", Uuid, nullable=False, unique=True),
    Column("folder", String(200), nullable=False),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("uid", BigInteger, nullable=False),
    Column("message_id", String(998), nullable=True),
    Column("sender", String(320), nullable=False, index=True),
    Column("subject", String(500), nullable=False),
    Column("outcome", String(30), nullable=False, index=True),
    Column("kind", String(20), nullable=True),
    Column("ticket_number", String(20), nullable=True),
    Column("incident_id", Uuid, nullable=True),
    Column("event_id", Uuid, nullable=True),
    Column("detail", String(500), nullable=False),
    Column("received_at", UtcDateTime, nullable=False, index=True),
    Index("uq_mail_intake_uid", "folder", "uidvalidity", "uid", unique=True),
)

# The attachments of an intake message: stored (bounded by size) or refused, with the reason.
mail_attachment = Table(
    "mail_attachment",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("intake_id", Uuid, ForeignKey("mail_intake.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", String(500), nullable=True),
    Column("content", LargeBinary, nullable=True),
)

# Addresses the desk's mail bounced from (a DSN came back): mail to them is held, not sent.
bounced_recipient = Table(
    "bounced_recipient",
    metadata,
    Column("address", String(320), primary_key=True),
    Column("bounces", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("diagnostic", String(500), nullable=False),
    Column("first_bounced_at", UtcDateTime, nullable=False),
    Column("last_bounced_at", UtcDateTime, nullable=False),
    Column("intake_id", Uuid, nullable=True),
)

# An address that unsubscribed from a (non-mandatory) rule through the link in its mail.
unsubscription = Table(
    "unsubscription",
    metadata,
    Column("address", String(320), primary_key=True),
    Column("rule_id", Uuid, ForeignKey("notification_rule.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)
