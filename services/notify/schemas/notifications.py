"""API bodies of notification rules (create, read, page) and of the e-mail delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import Field, StringConstraints

from services.notify.domain.notifications import MessageStatus, Rule
from services.notify.schemas.subscriptions import FieldPath, FilterValue
from shared.http import ApiModel, Page

RecipientField = Annotated[
    str, StringConstraints(min_length=6, max_length=200, pattern=r"^data(\.[a-z0-9_]{1,64}){1,5}$")
]


class RuleCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200, description="Unique; what the rule is for")
    event_pattern: str = Field(
        min_length=1,
        max_length=255,
        examples=["incident.resolved.v1", "change.*.v1"],
        description="Routing keys the rule reacts to, in AMQP topic syntax: `*` one word, `#` zero or more",
    )
    data_filter: dict[FieldPath, FilterValue] = Field(
        default_factory=dict,
        max_length=20,
        examples=[{"priority": 1}],
        description="Only events whose data has each of these fields (a dotted path) with this value",
    )
    template: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[a-z0-9_]+$",
        examples=["incident_resolved"],
        description="The template's name: its files `<name>.subject.txt`, `<name>.txt`, `<name>.html`",
    )
    recipient_fields: list[RecipientField] = Field(
        min_length=1,
        max_length=10,
        examples=[["data.caller"]],
        description="Fields of the event's data holding who to tell: an e-mail address, or a user name"
        " (then `NOTIFY_MAIL_RECIPIENT_DOMAIN` is added)",
    )
    enabled: bool = True


class RuleRead(ApiModel):
    id: UUID
    name: str
    event_pattern: str
    data_filter: dict[str, FilterValue]
    template: str
    recipient_fields: list[str]
    enabled: bool
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, rule: Rule) -> Self:
        return cls.from_record(rule)


RulePage = Page[RuleRead]


class MessageRead(ApiModel):
    id: UUID
    rule_id: UUID
    event_id: UUID
    event_type: str
    recipient: str
    subject: str
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime | None
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls.from_record(row, status=MessageStatus(row.status))


MessagePage = Page[MessageRead]
