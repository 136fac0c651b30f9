"""Events published by the incident service about transactional satisfaction surveys (ISO/IEC
20000-1 7.1); beside `incident.py` (at its size limit) and `complaint.py`.

What they carry, and what they leave out on purpose: the respondent is the ticket's caller or
requester as the service already publishes it (reporting counts scores per caller where no
customer is known); the link, a bearer credential, is never in an event; the comment, free text a
person wrote, is not either (`has_comment` says there is one: it stays in the incident service, and
in the complaint a low score opens).

The link's token is part of the contract all the same: `survey_link_token` is how it is made, by
the incident service (which answers the page behind it) and by a consumer given the same key
(notify, which puts the link into the caller's resolution mail); both sign it from what
`survey.issued.v1` carries (`survey_id`, `expires_at`), so the link itself never travels."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from shared.events.envelope import EventData


class SurveyEvent(EventData):
    """What every survey event carries: which ticket's person was asked, and when."""

    survey_id: UUID
    number: str = Field(examples=["SRV0000001"])
    ticket_kind: Literal["incident", "request", "campaign"] = Field(
        description="A resolved ticket's survey, or a periodic campaign's (ticket_id, ticket_number: the campaign)"
    )
    ticket_id: UUID
    ticket_number: str
    service_id: UUID | None = None
    respondent: str = Field(description="The ticket's caller (incident) or requester (request)")
    issued_at: datetime
    expires_at: datetime
    occurred_at: datetime


class SurveyIssued(SurveyEvent):
    routing_key: ClassVar[str] = "survey.issued.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = (
        "A resolved ticket was sampled and its person sent a satisfaction survey (ISO/IEC 20000-1 7.1);"
        " the signed link is not in the event."
    )

    sampling_rate: float = Field(ge=0, le=1, description="The sampling rate in force when it was issued")


class SurveyAnswered(SurveyEvent):
    routing_key: ClassVar[str] = "survey.answered.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = (
        "A survey was answered through its single-use link; a low score opened a complaint (complaint_id)."
    )

    answered_at: datetime
    score: int = Field(ge=1, le=5)
    has_comment: bool = Field(description="A comment was given (its text stays in the incident service)")
    complaint_id: UUID | None = Field(default=None, description="The complaint the low score opened, if any")


def survey_link_mac(secret: bytes, payload: str) -> str:
    """The signature of a survey link's payload (HMAC-SHA256, base64url without padding)."""
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def survey_link_token(survey_id: UUID, expires_at: datetime, secret: bytes) -> str:
    """The token of a survey's link: `<survey id hex>.<expiry, epoch seconds>.<HMAC-SHA256>`."""
    if not secret:
        raise ValueError("a survey link needs a secret")
    payload = f"{survey_id.hex}.{int(expires_at.timestamp())}"
    return f"{payload}.{survey_link_mac(secret, payload)}"
