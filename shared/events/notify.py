"""Events published by the notify service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

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


class MailAttachmentRef(BaseModel):
    """An attachment notify stored with the message (fetched from notify by its id)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    attachment_id: UUID
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size: int = Field(ge=0)


class MailReceived(EventData):
    routing_key: ClassVar[str] = "mail.received.v1"
    producer: ClassVar[str] = "notify"
    description: ClassVar[str] = (
        "A message came into the desk's mailbox and was accepted (not an auto-reply, a bounce or a"
        " refused sender): the incident service opens a ticket from it (`action` open) or adds it as"
        " a customer comment to the ticket it answers (`action` comment)."
    )

    intake_id: UUID = Field(description="notify's record of the message (the intake log)")
    action: Literal["open", "comment"]
    kind: Literal["incident", "request"] = Field(
        default="incident", description="What a new message opens (by the intake's rules)"
    )
    catalogue_item_id: UUID | None = Field(default=None, description="The item a request is submitted for")
    sender: str = Field(max_length=320, description="The From address: the caller, or the comment's author")
    subject: str = Field(max_length=500)
    body: str = Field(description="The plain-text body (an HTML-only message converted to text), bounded")
    message_id: str | None = Field(default=None, max_length=998)
    ticket_number: str | None = Field(default=None, max_length=20, description="The ticket a reply answers, by number")
    incident_id: UUID | None = Field(default=None, description="The ticket a reply answers, by a message notify sent")
    attachments: list[MailAttachmentRef] = Field(default_factory=list, max_length=50)
    refused_attachments: int = Field(default=0, ge=0, description="Attachments refused (size, type): in the log")
    received_at: datetime
