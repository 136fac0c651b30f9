"""HTTP bodies of transactional satisfaction surveys (ISO/IEC 20000-1 7.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from services.incident.domain.survey_campaigns import MAX_SAMPLE
from services.incident.domain.surveys import Survey, SurveyStatus, TicketKind
from shared.http import ApiModel, Page


class SurveyRead(ApiModel):
    id: UUID
    number: str
    ticket_kind: TicketKind
    ticket_id: UUID
    ticket_number: str
    service_id: UUID | None
    respondent: str
    issued_at: datetime
    expires_at: datetime
    status: SurveyStatus = Field(description="issued, answered, or expired (issued and past its expiry)")
    answered_at: datetime | None
    score: int | None = Field(description="1 (very dissatisfied) to 5 (very satisfied)")
    comment: str
    complaint_id: UUID | None = Field(description="The complaint its low score opened")
    link: str | None = Field(
        default=None,
        description="The signed, single-use answer page (a path on this service): shown only to the respondent,"
        " while the survey takes an answer",
    )

    @classmethod
    def of(cls, survey: Survey, now: datetime, link: str | None = None) -> SurveyRead:
        return cls.from_record(survey, status=survey.status_at(now), link=link)


SurveyList = Page[SurveyRead]


class CampaignCreate(ApiModel):
    title: str = Field(min_length=1, max_length=200, examples=["Quarterly satisfaction survey"])
    frame_days: float = Field(default=90, gt=0, le=366, description="Who raised a ticket in this many days")
    sample_size: int = Field(ge=1, le=MAX_SAMPLE, description="How many people to ask (all, when fewer)")
    seed: str | None = Field(
        default=None, min_length=1, max_length=100, description="Draws the sample; a random one when not given"
    )


class CampaignRead(ApiModel):
    id: UUID
    number: str
    title: str
    frame_start: datetime
    frame_end: datetime
    launched_at: datetime
    launched_by: str
    surveys: int = Field(description="Surveys issued: one per person sampled")
    evidence: dict[str, Any] = Field(
        description="The sampling rule, its seed, the population's size and SHA-256, the sizes per stratum"
        " (service), and how many were left out as surveyed within the throttle"
    )


CampaignList = Page[CampaignRead]
