"""API bodies of service reviews (ISO/IEC 20000-1 8.3.3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from services.reporting.domain.service_reviews import Requirement, ReviewAction, ServiceReview
from shared.http import ApiModel, Page

CHANGE_NUMBER = r"^CHG[0-9]{7}$"
Person = Annotated[str, Field(min_length=1, max_length=200)]
ActionStatus = Literal["open", "in_progress", "done", "cancelled"]


class RequirementBody(ApiModel):
    text: str = Field(min_length=1, max_length=2000)
    change_number: str | None = Field(default=None, pattern=CHANGE_NUMBER, description="The change raised for it")


class ActionBody(ApiModel):
    text: str = Field(min_length=1, max_length=2000)
    owner: Person
    due: date
    status: ActionStatus = "open"


class ServiceReviewCreate(ApiModel):
    title: str = Field(min_length=1, max_length=200, examples=["Acme quarterly service review"])
    customer_id: UUID | None = Field(default=None, description="The customer (config's registry) it was held with")
    held_on: date
    attendees: list[Person] = Field(min_length=1, max_length=50)
    report_run_ids: list[UUID] = Field(default_factory=list, max_length=50, description="Report runs presented")
    feedback: str = Field(default="", max_length=20_000)
    requirements: list[RequirementBody] = Field(default_factory=list, max_length=50)
    actions: list[ActionBody] = Field(default_factory=list, max_length=50)

    def command_values(self) -> dict[str, object]:
        return {
            **self.model_dump(include={"title", "customer_id", "held_on", "feedback"}),
            "attendees": tuple(self.attendees),
            "report_run_ids": tuple(self.report_run_ids),
            "requirements": tuple(Requirement(r.text, r.change_number) for r in self.requirements),
            "actions": tuple(ReviewAction(a.text, a.owner, a.due, a.status) for a in self.actions),
        }


class ActionMove(ApiModel):
    status: ActionStatus


class ChangeLink(ApiModel):
    change_number: str = Field(pattern=CHANGE_NUMBER)


class ServiceReviewRead(ServiceReviewCreate):
    id: UUID
    version: int
    recorded_by: str
    recorded_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, review: ServiceReview) -> ServiceReviewRead:
        return cls.from_record(
            review,
            attendees=list(review.attendees),
            report_run_ids=list(review.report_run_ids),
            requirements=[RequirementBody(text=r.text, change_number=r.change_number) for r in review.requirements],
            actions=[ActionBody(text=a.text, owner=a.owner, due=a.due, status=a.status) for a in review.actions],
        )


ServiceReviewPage = Page[ServiceReviewRead]
