"""HTTP bodies of report agreements: proposals, decisions and the versions recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from shared.http import ApiModel, Page

Party = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class RecipientBody(ApiModel):
    recipient: str = Field(min_length=1, max_length=2000, description="webhook: the http(s) URL the run is POSTed to")
    channel: str = Field(min_length=1, max_length=20, description="webhook (the only channel that delivers today)")


class AgreementProposal(ApiModel):
    owner: str = Field(min_length=1, max_length=200, description="who answers for the report")
    agreed_with: list[Party] = Field(
        default_factory=list, max_length=50, description="the interested parties it is (to be) agreed with"
    )
    distribution_list: list[RecipientBody] = Field(default_factory=list, max_length=50)
    reason: str = Field(default="", max_length=1000)


class AgreementDecision(ApiModel):
    agreed_with: list[Party] | None = Field(
        default=None, max_length=50, description="the parties who agreed (default: those the draft names)"
    )
    agreed_at: datetime | None = Field(default=None, description="when they agreed (default: now; not in the future)")
    reason: str = Field(default="", max_length=1000)


class Retirement(ApiModel):
    reason: str = Field(min_length=1, max_length=1000)


class AgreementVersionRead(ApiModel):
    report: str
    version: int
    status: str = Field(description="draft, agreed or retired")
    owner: str
    agreed_with: list[str]
    agreed_at: datetime | None
    distribution_list: list[RecipientBody]
    definition: dict[str, Any] = Field(description="the report definition this version is about, as recorded")
    reason: str
    recorded_by: str
    recorded_at: datetime


class AgreementRead(AgreementVersionRead):
    """The latest version, and which version is in force."""

    in_force_version: int | None = Field(description="the latest agreed or retired version (a draft is not in force)")
    scheduled: bool = Field(description="whether the report-runs job produces it (its version in force is agreed)")
    allowed_actions: list[str]
    definition_changed: bool = Field(description="the report's definition changed since this version recorded it")


AgreementVersionPage = Page[AgreementVersionRead]


class AgreementSummaryRead(ApiModel):
    report: str
    version: int | None
    status: str | None = Field(description="of the latest version; null: no agreement yet")
    in_force_version: int | None
    scheduled: bool


class AgreementSummaries(ApiModel):
    items: list[AgreementSummaryRead]
