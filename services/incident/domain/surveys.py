"""Transactional satisfaction surveys as pure domain code (ISO/IEC 20000-1 7.1): whether a resolved
ticket's person is asked (sampling and a per-person throttle), the survey record and its single
answer, the signed link that reaches it without a login, and the low-score policy (no I/O)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final
from uuid import UUID

from shared.errors import RuleViolation
from shared.events.survey import survey_link_mac, survey_link_token

SCORES: Final = range(1, 6)
"""1 (very dissatisfied) to 5 (very satisfied)."""
COMMENT_MAX: Final = 2000
"""The longest comment kept, in characters."""


class SurveyStatus(StrEnum):
    ISSUED = "issued"
    ANSWERED = "answered"
    EXPIRED = "expired"
    """Not answered before its link expired (computed on read: the row stays `issued`)."""


class TicketKind(StrEnum):
    """What a survey asks about: a resolved ticket, or a periodic campaign (its `ticket_*` fields
    then name the campaign)."""

    INCIDENT = "incident"
    REQUEST = "request"
    CAMPAIGN = "campaign"


class Decision(StrEnum):
    """Why a resolved ticket's person is, or is not, asked."""

    ISSUE = "issue"
    NOT_SAMPLED = "not_sampled"
    THROTTLED = "throttled"
    NO_PERSON = "no_person"
    ALREADY_SURVEYED = "already_surveyed"


@dataclass(frozen=True)
class SurveyPolicy:
    """`sampling_rate`: the share of resolved tickets surveyed (0 none, 1 all); `throttle`: no
    person is asked twice within it; `lifetime`: how long a link stays valid; a score at or below
    `low_score` opens a complaint (0: never)."""

    sampling_rate: float
    throttle: timedelta
    lifetime: timedelta
    low_score: int

    def __post_init__(self) -> None:
        if not 0 <= self.sampling_rate <= 1:
            raise ValueError("the survey sampling rate is between 0 and 1")
        if self.throttle < timedelta(0):
            raise ValueError("the survey throttle cannot be negative")
        if self.lifetime <= timedelta(0):
            raise ValueError("a survey link lives a positive time")
        if not 0 <= self.low_score <= max(SCORES) - 1:
            raise ValueError("the low-score threshold is between 0 (never) and 4")


def sample_point(ticket_id: UUID) -> float:
    """Where a ticket falls in [0, 1): from a hash of its id, so the same ticket always gets the
    same answer (a redelivered event, a replay) and anyone can check why it was or was not asked."""
    digest = hashlib.sha256(ticket_id.bytes).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def sampled(ticket_id: UUID, rate: float) -> bool:
    return sample_point(ticket_id) < rate


def throttled(last_issued_at: datetime | None, now: datetime, throttle: timedelta) -> bool:
    """The person was asked less than `throttle` ago (exactly `throttle` ago: asked again)."""
    return last_issued_at is not None and now - last_issued_at < throttle


def decide(
    *,
    ticket_id: UUID,
    person: str | None,
    already_surveyed: bool,
    last_issued_at: datetime | None,
    now: datetime,
    policy: SurveyPolicy,
) -> Decision:
    """One survey per ticket, only with a person to ask, only for sampled tickets, and not for a
    person asked within the throttle."""
    if already_surveyed:
        return Decision.ALREADY_SURVEYED
    if not (person or "").strip():
        return Decision.NO_PERSON
    if not sampled(ticket_id, policy.sampling_rate):
        return Decision.NOT_SAMPLED
    if throttled(last_issued_at, now, policy.throttle):
        return Decision.THROTTLED
    return Decision.ISSUE


# ---------------------------------------------------------------------------- the signed link


class LinkRefusal(StrEnum):
    """Why a link is refused. The page tells a person only `expired` apart (their link is genuine);
    any other refusal is one answer, which says nothing about why."""

    MALFORMED = "malformed"
    FORGED = "forged"
    EXPIRED = "expired"


sign_link = survey_link_token
"""The token of a survey's link (its format is part of the survey events' contract: a consumer
given the key signs the same link from `survey.issued.v1`)."""


def verify_link(token: str, now: datetime, secret: bytes) -> tuple[UUID, datetime] | LinkRefusal:
    """The survey a token names and when it expires, or why it is refused. The signature is
    checked first (in constant time), so a forged token learns nothing about expiry."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[0]) != 32 or not parts[1].isdigit() or len(parts[1]) > 12:
        return LinkRefusal.MALFORMED
    try:
        survey_id = UUID(hex=parts[0])
    except ValueError:
        return LinkRefusal.MALFORMED
    if not hmac.compare_digest(survey_link_mac(secret, f"{parts[0]}.{parts[1]}"), parts[2]):
        return LinkRefusal.FORGED
    expires_at = datetime.fromtimestamp(int(parts[1]), UTC)
    if now >= expires_at:
        return LinkRefusal.EXPIRED
    return survey_id, expires_at


# ---------------------------------------------------------------------------- the survey record


@dataclass(frozen=True)
class SurveyIssued:
    survey_id: UUID


@dataclass(frozen=True)
class SurveyAnswered:
    survey_id: UUID


@dataclass
class Survey:
    id: UUID
    number: str
    ticket_kind: TicketKind
    ticket_id: UUID
    ticket_number: str
    respondent: str
    issued_at: datetime
    expires_at: datetime
    status: SurveyStatus
    service_id: UUID | None = None
    answered_at: datetime | None = None
    score: int | None = None
    comment: str = ""
    complaint_id: UUID | None = None
    version: int = 1
    pending_events: list[SurveyIssued | SurveyAnswered] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def issue(
        cls,
        *,
        survey_id: UUID,
        ticket_kind: TicketKind,
        ticket_id: UUID,
        ticket_number: str,
        respondent: str,
        service_id: UUID | None,
        now: datetime,
        policy: SurveyPolicy,
    ) -> Survey:
        survey = cls(
            id=survey_id,
            number="",
            ticket_kind=ticket_kind,
            ticket_id=ticket_id,
            ticket_number=ticket_number,
            respondent=respondent.strip(),
            issued_at=now,
            expires_at=now + policy.lifetime,
            status=SurveyStatus.ISSUED,
            service_id=service_id,
        )
        survey.pending_events.append(SurveyIssued(survey_id))
        return survey

    def status_at(self, now: datetime) -> SurveyStatus:
        if self.status is SurveyStatus.ISSUED and now >= self.expires_at:
            return SurveyStatus.EXPIRED
        return self.status

    def answer(self, score: int, comment: str, now: datetime) -> None:
        """The one answer: a second, or one after expiry, is refused by `status_at` (the caller
        checks it first and shows its own page); here it is a rule, for any other path."""
        status = self.status_at(now)
        if status is not SurveyStatus.ISSUED:
            raise RuleViolation(f"survey {self.number} is {status.value}: it takes no answer", field="score")
        if score not in SCORES:
            raise RuleViolation("the score is 1 to 5", field="score")
        text = comment.strip()
        if len(text) > COMMENT_MAX:
            raise RuleViolation(f"the comment is at most {COMMENT_MAX} characters", field="comment")
        self.score, self.comment, self.answered_at = score, text, now
        self.status = SurveyStatus.ANSWERED
        self.version += 1
        self.pending_events.append(SurveyAnswered(self.id))

    def opens_complaint(self, policy: SurveyPolicy) -> bool:
        """An answered score at or below the policy's threshold is a complaint (7.1)."""
        return self.score is not None and self.score <= policy.low_score

    def complaint_title(self) -> str:
        return f"Low satisfaction score {self.score}/5 on {self.ticket_kind.value} {self.ticket_number}"
