"""What the notify service consumes (every event of the suite, `CONSUMES`) and publishes: a
subscription disabled, as its published contract."""

from __future__ import annotations

from urllib.parse import urlsplit

from services.notify.domain.subscriptions import Subscription
from shared.events.notify import WebhookSubscriptionDisabled

CONSUMES = "#"
"""The binding key of notify's queue: every event of the suite, each a candidate for a webhook."""


def subscription_disabled(item: Subscription, actor: str) -> WebhookSubscriptionDisabled:
    """`webhook.subscription_disabled.v1` for a subscription just disabled (`actor` is `system`
    when the retry period ran out)."""
    assert item.disabled_at is not None
    return WebhookSubscriptionDisabled(
        subscription_id=item.id,
        url_host=urlsplit(item.url).hostname or "",
        event_pattern=item.event_pattern,
        reason=item.disabled_reason or "",
        actor=actor,
        occurred_at=item.disabled_at,
    )
