"""The notify service's records under retention (ISO/IEC 20000-1 4.3.3, `shared.retention_store`):
the e-mail messages it sent or gave up on (`mail_message`) and the webhook deliveries it made or gave
up on (`webhook_delivery`, with its attempts: the delivery log). Each is disposed of only in a final
status (sent or failed; delivered or failed): a pending or held one is never disposed of, whatever
its timestamps say. A policy counts from `created_at`, `last_attempt_at` (the last try: when a
failed one was given up) or the success (`sent_at`, `delivered_at`; a failed one has none, so such a
policy keeps failed ones).

The intake log (`mail_intake`) is not under this control yet: it has its own purge
(`NOTIFY_MAIL_INTAKE_RETENTION_DAYS`), which no legal hold stops."""

from __future__ import annotations

from services.notify.domain.deliveries import DeliveryStatus
from services.notify.domain.notifications import MessageStatus
from services.notify.store.tables import mail_message, outbox, webhook_attempt, webhook_delivery
from shared.evidence import EvidenceSource, Part
from shared.retention_store import Disposable

MAIL_MESSAGE, WEBHOOK_DELIVERY = "mail_message", "webhook_delivery"

DISPOSABLES = (
    Disposable(
        EvidenceSource(MAIL_MESSAGE, mail_message, outbox),
        ("sent_at", "last_attempt_at", "created_at"),
        final=tuple(sorted((MessageStatus.SENT.value, MessageStatus.FAILED.value))),
    ),
    Disposable(
        EvidenceSource(WEBHOOK_DELIVERY, webhook_delivery, outbox, (Part("attempts", webhook_attempt, "delivery_id"),)),
        ("delivered_at", "last_attempt_at", "created_at"),
        final=tuple(sorted((DeliveryStatus.DELIVERED.value, DeliveryStatus.FAILED.value))),
    ),
)
