"""Events published by the notify service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventData


class WebhookSubscriptionDisabled(EventData):
    routing_key: ClassVar[str] = "webhook.subscription_disabled.v1"
    producer: ClassVar[str] = "notify"
    description: ClassVar[str] = (
        "A webhook subscription was disabled: its deliveries kept failing over the retry period"
        " (`reason`), or an administrator disabled it."
    )

    subscription_id: UUID
    url_host: str = Field(description="The host of the target URL (not the URL: its path may hold a token)")
    event_pattern: str
    reason: str
    actor: str = Field(description="`system` when the retry period ran out")
    occurred_at: datetime
