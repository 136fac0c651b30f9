"""API bodies of webhook subscriptions: create, read (with the secret only when it is made), page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field, StringConstraints

from services.notify.domain.chat import Channel
from services.notify.domain.subscriptions import Subscription, SubscriptionStatus
from shared.http import ApiModel, Page

FieldPath = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
]
FilterValue = Annotated[str, StringConstraints(max_length=200)] | int | bool | None


class SubscriptionCreate(ApiModel):
    url: str = Field(
        min_length=8, max_length=2000, pattern=r"^https?://", description="Where each event is POSTed (http or https)"
    )
    event_pattern: str = Field(
        min_length=1,
        max_length=255,
        examples=["incident.#", "*.created.v1", "#"],
        description="Routing keys to deliver, in AMQP topic syntax: `*` one word, `#` zero or more",
    )
    subject_filter: str | None = Field(
        default=None, min_length=1, max_length=200, description="Only events with this CloudEvents `subject`"
    )
    data_filter: dict[FieldPath, FilterValue] = Field(
        default_factory=dict,
        max_length=20,
        examples=[{"priority": 1, "service.id": "..."}],
        description="Only events whose data has each of these fields (a dotted path) with this value",
    )
    description: str = Field(default="", max_length=500)
    channel: Channel = Field(
        default=Channel.WEBHOOK,
        description="webhook: the signed CloudEvent; slack / teams: an incoming-webhook message for a chat channel",
    )
    template: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"^[a-z0-9_]+$",
        description="For slack / teams: the template whose subject and plain-text part make the message",
    )


class SubscriptionRead(ApiModel):
    id: UUID
    url: str
    event_pattern: str
    subject_filter: str | None
    data_filter: dict[str, FilterValue]
    description: str
    channel: Channel
    template: str | None
    status: SubscriptionStatus
    disabled_at: datetime | None
    disabled_reason: str | None
    previous_secret_until: datetime | None = Field(
        description="Until when deliveries are also signed with the secret a rotation replaced"
    )
    allowed_actions: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionRead:
        return cls.from_record(s, allowed_actions=s.allowed_actions())


class SubscriptionWithSecret(SubscriptionRead):
    secret: str = Field(
        description="The signing secret (`whsec_` and base64, per Standard Webhooks): shown only when it is made"
    )

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionWithSecret:
        return cls.from_record(s, allowed_actions=s.allowed_actions())


SubscriptionPage = Page[SubscriptionRead]
