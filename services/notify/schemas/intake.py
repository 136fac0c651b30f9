"""API bodies of e-mail intake: the intake log (each message with its outcome and attachments)
and the bounced recipients."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self
from uuid import UUID

from services.notify.domain.intake import Outcome
from shared.http import ApiModel, Page


class AttachmentRead(ApiModel):
    id: UUID
    filename: str
    content_type: str
    size: int
    status: str
    reason: str | None

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls.from_record(row)


class IntakeRead(ApiModel):
    id: UUID
    folder: str
    uidvalidity: int
    uid: int
    message_id: str | None
    sender: str
    subject: str
    outcome: Outcome
    kind: str | None
    ticket_number: str | None
    incident_id: UUID | None
    event_id: UUID | None
    detail: str
    received_at: datetime
    attachments: list[AttachmentRead]

    @classmethod
    def of(cls, row: Any, attachments: list[Any]) -> Self:
        return cls.from_record(
            row, outcome=Outcome(row.outcome), attachments=[AttachmentRead.of(a) for a in attachments]
        )


IntakePage = Page[IntakeRead]


class BouncedRead(ApiModel):
    address: str
    bounces: int
    status: str
    diagnostic: str
    first_bounced_at: datetime
    last_bounced_at: datetime
    intake_id: UUID | None

    @classmethod
    def of(cls, row: Any) -> Self:
        return cls.from_record(row)


BouncedPage = Page[BouncedRead]
