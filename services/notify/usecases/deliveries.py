"""Delivery use cases: keep each consumed event and queue it for every active subscription it
matches; deliver what is due, one delivery per transaction; replay by event id or time range.

Each pass of the `webhook-deliveries` job claims the next due delivery with its row locked
(`FOR UPDATE SKIP LOCKED` on PostgreSQL), POSTs it and records the attempt in the same
transaction: a second replica skips that row, and once delivered no pass selects it again. The
first pending delivery of a subject holds the later ones of that subject (per subscription), so a
receiver sees one subject's events in order. A failure is retried after a doubling delay; past
the retry period the delivery is `failed` and its subscription disabled, announced by
`webhook.subscription_disabled.v1`.

If the process dies after the receiver accepted a POST and before the commit, the next pass sends
it again, with the same `webhook-id` (the event's id): a receiver drops such a repeat by that id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from services.notify import events
from services.notify.domain import chat
from services.notify.domain import deliveries as rules
from services.notify.domain.chat import Channel
from services.notify.domain.deliveries import DeliveryStatus, RetryPolicy
from services.notify.domain.signing import signed_headers
from services.notify.domain.subscriptions import Subscription, SubscriptionStatus
from services.notify.domain.targets import check_addresses, target_of
from services.notify.settings import NotifySettings
from services.notify.store import deliveries as store
from services.notify.store import event_log, mail
from services.notify.store.subscriptions import SubscriptionRepository
from services.notify.store.webhooks import Answer, addresses_of, post, webhook_client
from shared import clock
from shared.errors import RuleViolation, found
from shared.events import CloudEvent
from shared.uow import UnitOfWork

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryConfig:
    retry: RetryPolicy
    timeout_s: float
    allow_private: bool
    excerpt_chars: int
    max_per_pass: int = 200
    locale: str = "en"


@dataclass
class PassResult:
    delivered: int = 0
    failed: int = 0
    disabled: int = 0


def config_of(settings: NotifySettings) -> DeliveryConfig:
    return DeliveryConfig(
        retry=RetryPolicy(
            first_delay=timedelta(seconds=settings.webhook_retry_first_s),
            max_delay=timedelta(seconds=settings.webhook_retry_max_s),
            period=timedelta(seconds=settings.webhook_retry_period_s),
        ),
        timeout_s=settings.webhook_timeout_s,
        allow_private=settings.webhook_allow_private_targets,
        excerpt_chars=settings.webhook_response_excerpt_chars,
        max_per_pass=settings.webhook_max_per_pass,
        locale=settings.mail_locale,
    )


def _delivery_row(
    sub: Subscription,
    event_id: UUID,
    event_type: str,
    subject: str | None,
    time: datetime,
    now: datetime,
    *,
    replay: bool,
) -> dict[str, Any]:
    return {
        "id": uuid4(),
        "subscription_id": sub.id,
        "event_id": event_id,
        "event_type": event_type,
        "event_time": time,
        "ordering_key": rules.ordering_key(subject, event_id)[:220],
        "replay": replay,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def on_event(event: CloudEvent, uow: UnitOfWork) -> None:
    """A consumed event: kept (for replays), and queued for each active subscription it matches."""
    conn = uow.connection
    now = clock.now()
    body = event.model_dump_json()
    await event_log.keep(conn, event.id, event.type, event.subject, event.time, body, now)
    subscriptions = await SubscriptionRepository(conn).active()
    rows = [
        _delivery_row(s, event.id, event.type, event.subject, event.time, now, replay=False)
        for s in subscriptions
        if s.matches(event.routing_key, event.subject, event.data)
    ]
    await store.add_deliveries(conn, rows)


async def _target_refusal(url: str, allow_private: bool) -> str | None:
    """Why the target is refused now (its host may resolve elsewhere than when it was checked)."""
    try:
        target = target_of(url)
        check_addresses(target.host, await addresses_of(target.host, target.port), allow_private=allow_private)
    except RuleViolation as exc:
        return exc.detail[:500]
    return None


async def _attempt(client: httpx.AsyncClient, sub: Subscription, due: Any, config: DeliveryConfig) -> Answer:
    refusal = await _target_refusal(sub.url, config.allow_private)
    if refusal is not None:
        return Answer(None, 0, None, refusal)
    if sub.channel is not Channel.WEBHOOK:
        chat = json.dumps(_chat_message(sub, CloudEvent.model_validate_json(due.body), config.locale))
        chat_headers = {"content-type": "application/json", "user-agent": "itsm-notify"}
        return await post(client, sub.url, chat.encode("utf-8"), chat_headers, config.excerpt_chars)
    body = due.body.encode("utf-8")
    headers = signed_headers(sub.signing_secrets(clock.now()), str(due.event_id), int(clock.now().timestamp()), body)
    headers["user-agent"] = "itsm-notify"
    return await post(client, sub.url, body, headers, config.excerpt_chars)


def _chat_message(sub: Subscription, event: CloudEvent, locale: str) -> dict[str, Any]:
    """The Slack or Teams message for `event`: from the subscription's template (its subject and
    plain-text part) when it has one and it renders, else a summary of the event."""
    title, text = chat.summary(event.type, event.subject, event.data)
    if sub.template:
        context = {"data": event.data, "event": {"type": event.type, "subject": event.subject, "time": event.time}}
        try:
            rendered = mail.render(sub.template, locale, context | {"desk": ""})
            title, text = rendered.subject, rendered.text
        except RuleViolation as exc:  # the summary still tells the channel something happened
            log.error("subscription %s: template %r failed for %s: %s", sub.id, sub.template, event.id, exc.detail)
    return chat.chat_message(sub.channel, title, text)


async def deliver_due(
    unit_of_work: Callable[[], UnitOfWork], config: DeliveryConfig, *, transport: httpx.AsyncBaseTransport | None = None
) -> PassResult:
    """Deliver what is due, one delivery per transaction, up to `max_per_pass`."""
    result = PassResult()
    async with webhook_client(config.timeout_s, transport) as client:
        for _ in range(config.max_per_pass):
            async with unit_of_work() as uow:
                conn = uow.connection
                due = await store.claim_due(conn, clock.now())
                if due is None:
                    break
                subs = uow.repository(SubscriptionRepository)
                sub = found(await subs.get(due.subscription_id), f"subscription {due.subscription_id}")
                answer = await _attempt(client, sub, due, config)
                now = clock.now()
                await store.add_attempt(
                    conn,
                    {
                        "id": uuid4(),
                        "delivery_id": due.id,
                        "attempted_at": now,
                        "duration_ms": answer.duration_ms,
                        "status_code": answer.status_code,
                        "error": answer.error,
                        "response_excerpt": answer.excerpt,
                    },
                )
                attempted = config.retry.after_attempt(due.attempts, due.first_attempt_at, now, answer.error)
                values: dict[str, Any] = attempted.values() | {"last_status_code": answer.status_code}
                if attempted.succeeded:
                    values |= {"status": DeliveryStatus.DELIVERED.value, "delivered_at": now}
                    result.delivered += 1
                else:
                    result.failed += 1
                    if attempted.gave_up:
                        values["status"] = DeliveryStatus.FAILED.value
                        reason = rules.disabled_reason(attempted.attempts, str(answer.error))
                        result.disabled += await _give_up(uow, sub.id, reason)
                    log.warning(
                        "webhook %s to %s: attempt %d failed (%s); %s",
                        due.event_id,
                        urlsplit(sub.url).hostname,  # not the URL: its path may hold a token
                        attempted.attempts,
                        answer.error,
                        f"next at {attempted.retry_at.isoformat()}"
                        if attempted.retry_at
                        else "giving up, subscription disabled",
                    )
                await store.update_delivery(conn, due.id, values)
                await uow.commit()
    return result


async def _give_up(uow: UnitOfWork, subscription_id: UUID, reason: str) -> int:
    """Disable the subscription (once: another replica may have done it meanwhile) and announce it."""
    subs = uow.repository(SubscriptionRepository)
    sub = await subs.get(subscription_id, for_update=True)
    if sub is None or sub.status is not SubscriptionStatus.ACTIVE:
        return 0
    sub.disable(reason, clock.now())
    await subs.save(sub)
    uow.emit(events.subscription_disabled(sub, "system"), subject=str(sub.id))
    return 1


@dataclass(frozen=True)
class Replay:
    event_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


async def replay(subscription_id: UUID, request: Replay, uow: UnitOfWork, *, max_events: int) -> int:
    """Queue again, for this subscription, one kept event (by id, whether or not it matches) or the
    kept events of a time range that match it (at most `max_events`, else 422). Returns how many."""
    async with uow:
        conn = uow.connection
        sub = found(
            await uow.repository(SubscriptionRepository).get(subscription_id), f"subscription {subscription_id}"
        )
        now = clock.now()
        if request.event_id is not None:
            row = found(await event_log.get_event(conn, request.event_id), f"event {request.event_id}")
            rows = [_delivery_row(sub, row.id, row.type, row.subject, row.time, now, replay=True)]
        else:
            if request.since is None or request.until is None or request.since >= request.until:
                raise RuleViolation(
                    "a replay names an event_id, or a time range with since before until", field="since"
                )
            kept = await event_log.events_between(conn, request.since, request.until, max_events + 1)
            if len(kept) > max_events:
                raise RuleViolation(f"more than {max_events} events in that range: replay a shorter one", field="until")
            events = [(r, CloudEvent.model_validate_json(r.body)) for r in kept]
            rows = [
                _delivery_row(sub, r.id, r.type, r.subject, r.time, now, replay=True)
                for r, e in events
                if sub.matches(e.routing_key, e.subject, e.data)
            ]
        await store.add_deliveries(conn, rows)
        await uow.commit()
    return len(rows)


@dataclass(frozen=True)
class DeliveryLog:
    delivery: Any
    attempts: list[Any]


async def delivery_log(conn: AsyncConnection, delivery_id: UUID, max_attempts: int) -> DeliveryLog:
    """A delivery with its attempts, oldest first (at most `max_attempts` of them), or 404."""
    row = found(await store.get_delivery(conn, delivery_id), f"delivery {delivery_id}")
    return DeliveryLog(row, await store.attempts_of(conn, delivery_id, max_attempts))


PURGE_BATCH = 1000


async def forget_old_events(unit_of_work: Callable[[], UnitOfWork], retention: timedelta) -> int:
    """Forget the kept events older than `retention` (in batches, one transaction each), but those
    a pending delivery still needs: a replay can go back that far."""
    forgotten = 0
    while True:
        async with unit_of_work() as uow:
            batch = await event_log.forget_before(uow.connection, clock.now() - retention, PURGE_BATCH)
            await uow.commit()
        forgotten += batch
        if batch < PURGE_BATCH:
            return forgotten
