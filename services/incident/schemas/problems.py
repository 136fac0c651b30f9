"""HTTP bodies of problem management: problems, their history and incidents, trends, and an
incident's change links."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, model_validator

from services.incident.domain.priority import Impact, Urgency
from services.incident.domain.problems import Problem, ProblemOrigin, ProblemStatus
from shared.history import FieldChangeEntry
from shared.http import ApiModel, Page, UpdateModel

Category = Field(default=None, min_length=1, max_length=100, examples=["network", "email"])


class ProblemCreate(ApiModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    impact: Impact = Impact.MEDIUM
    urgency: Urgency = Urgency.MEDIUM
    ci_id: UUID | None = None
    service_id: UUID | None = None
    category: str | None = Category
    owner: str | None = Field(default=None, min_length=1, max_length=200, description="The problem manager in charge")
    incident_ids: list[UUID] = Field(default_factory=list, max_length=500, description="Incidents to link now")


class ProblemUpdate(UpdateModel):
    """The fields to change; the ones left out stay as they are."""

    required_on_record = ("title", "description", "impact", "urgency", "root_cause", "workaround")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    impact: Impact | None = None
    urgency: Urgency | None = None
    ci_id: UUID | None = None
    service_id: UUID | None = None
    category: str | None = Category
    owner: str | None = Field(default=None, min_length=1, max_length=200)
    root_cause: str | None = Field(default=None, max_length=20_000)
    workaround: str | None = Field(default=None, max_length=20_000)
    reason: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _something_to_change(self) -> ProblemUpdate:
        if not (self.model_fields_set - {"reason"}):
            raise ValueError("name at least one field to change")
        return self

    def changes(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.model_fields_set if k != "reason"}


class Investigate(ApiModel):
    owner: str | None = Field(default=None, min_length=1, max_length=200)


class PublishKnownError(ApiModel):
    root_cause: str = Field(default="", max_length=20_000, description="Required unless already on the problem")
    workaround: str = Field(default="", max_length=20_000, description="Required unless already on the problem")


class ProblemResolve(ApiModel):
    resolution: str = Field(min_length=1, max_length=20_000)


class ProblemReason(ApiModel):
    reason: str = Field(min_length=1, max_length=2000)


class ProblemClose(ApiModel):
    reason: str = Field(default="", max_length=2000)


class ChangeLink(ApiModel):
    change_id: UUID
    change_number: str = Field(min_length=1, max_length=20, examples=["CHG0000042"])
    reason: str = Field(default="", max_length=2000)


class IncidentLinks(ApiModel):
    incident_ids: list[UUID] = Field(min_length=1, max_length=500)


class ProblemRead(ApiModel):
    id: UUID
    number: str
    title: str
    description: str
    status: ProblemStatus
    origin: ProblemOrigin
    impact: Impact
    urgency: Urgency
    priority: int
    ci_id: UUID | None
    service_id: UUID | None
    category: str | None
    owner: str | None
    root_cause: str
    workaround: str
    resolution: str
    change_id: UUID | None = Field(description="The change raised to fix it")
    change_number: str | None
    known_error_id: UUID | None
    incident_ids: list[UUID]
    incident_count: int
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int
    allowed_actions: list[str]

    @classmethod
    def of(cls, item: Problem) -> ProblemRead:
        return cls.from_record(
            item,
            incident_ids=list(item.incident_ids),
            incident_count=len(item.incident_ids),
            allowed_actions=item.allowed_actions(),
        )


ProblemPage = Page[ProblemRead]


class ProblemHistoryEntry(FieldChangeEntry):
    pass


class ProblemIncidentLink(ApiModel):
    incident_id: UUID
    incident_number: str
    reason: Literal["recurrence", "known_error", "manual", "outage"]
    linked_at: datetime
    actor: str


class CITrend(ApiModel):
    ci_id: UUID
    incidents: int


class CategoryTrend(ApiModel):
    category: str
    service_id: UUID | None
    incidents: int


class Trends(ApiModel):
    days: int
    since: datetime
    cis: list[CITrend] = Field(description="CIs with the most incidents, most first")
    categories: list[CategoryTrend] = Field(description="Categories (per service) with the most incidents")


class ChangeLinkRead(ApiModel):
    change_id: UUID
    change_number: str
    ci_id: UUID | None
    reason: str
    change_implemented_at: datetime | None
    linked_at: datetime
