"""API bodies of service level and operational level agreements (ISO/IEC 20000-1 6.1, 8.3.3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from services.config.domain.agreements import Agreement, AgreementKind, AgreementStatus, PriorityTarget, allowed_actions
from shared.http import ApiModel, Page, UpdateModel

MAX_SERVICES = 50
CHANGE_NUMBER = r"^CHG[0-9]{7}$"
Exclusion = Annotated[str, Field(min_length=1, max_length=500)]
MINUTES_MAX = 525_600
"""A year of minutes: no target is longer."""


class TargetBody(ApiModel):
    priority: int = Field(ge=1, le=5, description="1 critical .. 5 planning")
    response_minutes: int = Field(ge=1, le=MINUTES_MAX, description="Business minutes to the first response")
    resolution_minutes: int = Field(ge=1, le=MINUTES_MAX, description="Business minutes to resolution")

    def to_domain(self) -> PriorityTarget:
        return PriorityTarget(self.priority, self.response_minutes, self.resolution_minutes)


class _Terms(ApiModel):
    title: str = Field(min_length=1, max_length=200)
    service_ids: list[UUID] = Field(min_length=1, max_length=MAX_SERVICES, description="Catalogue services covered")
    targets: list[TargetBody] = Field(min_length=1, max_length=5, description="One per priority")
    availability_pct: float = Field(gt=0, le=100, allow_inf_nan=False, examples=[99.5])
    calendar: str = Field(min_length=1, max_length=100, description="The business-hours calendar (its name)")
    exclusions: list[Exclusion] = Field(default_factory=list, max_length=20)
    review_date: date


class AgreementCreate(_Terms):
    """An SLA names the customer; an OLA the internal group. It starts as a draft (version 1)."""

    kind: AgreementKind
    customer_id: UUID | None = None
    group: str | None = Field(default=None, min_length=1, max_length=100)

    def values(self) -> dict[str, Any]:
        return {
            **self.model_dump(exclude={"targets", "service_ids", "exclusions"}),
            "service_ids": tuple(self.service_ids),
            "targets": tuple(t.to_domain() for t in self.targets),
            "exclusions": tuple(self.exclusions),
        }


class AgreementUpdate(UpdateModel):
    """A draft's terms; only the fields sent change."""

    required_on_record = (
        "title",
        "service_ids",
        "targets",
        "availability_pct",
        "calendar",
        "exclusions",
        "review_date",
    )

    title: str | None = Field(default=None, min_length=1, max_length=200)
    service_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=MAX_SERVICES)
    targets: list[TargetBody] | None = Field(default=None, min_length=1, max_length=5)
    availability_pct: float | None = Field(default=None, gt=0, le=100, allow_inf_nan=False)
    calendar: str | None = Field(default=None, min_length=1, max_length=100)
    exclusions: list[Exclusion] | None = Field(default=None, max_length=20)
    review_date: date | None = None

    def values(self) -> dict[str, Any]:
        sent = self.model_dump(exclude_unset=True)
        if "service_ids" in sent:
            sent["service_ids"] = tuple(self.service_ids or ())
        if "targets" in sent:
            sent["targets"] = tuple(t.to_domain() for t in self.targets or ())
        if "exclusions" in sent:
            sent["exclusions"] = tuple(self.exclusions or ())
        return sent


class AgreementMove(ApiModel):
    """Agreeing, or retiring an agreed version, names the approved change that authorises it."""

    change_number: str | None = Field(default=None, pattern=CHANGE_NUMBER, description="The approved change")


class TargetRead(ApiModel):
    priority: int
    response_minutes: int
    resolution_minutes: int


class AgreementRead(ApiModel):
    id: UUID
    number: str = Field(examples=["SLA0000001"])
    document_version: int = Field(description="The agreement's version (v1, v2, ...); each is a record of its own")
    kind: AgreementKind
    title: str
    customer_id: UUID | None
    group: str | None
    service_ids: list[UUID]
    targets: list[TargetRead]
    availability_pct: float
    calendar: str
    exclusions: list[str]
    review_date: date
    status: AgreementStatus
    change_number: str | None = Field(description="The approved change under which it was agreed")
    agreed_at: datetime | None
    agreed_by: str | None
    ended_at: datetime | None
    superseded_by: UUID | None
    allowed_actions: list[str]
    version: int = Field(description="The record's version (its ETag)")
    created_at: datetime
    created_by: str
    updated_at: datetime

    @classmethod
    def of(cls, record: Agreement) -> AgreementRead:
        return cls.from_record(
            record,
            service_ids=list(record.service_ids),
            targets=[TargetRead(**t.__dict__) for t in record.targets],
            exclusions=list(record.exclusions),
            allowed_actions=allowed_actions(record.status),
        )


AgreementPage = Page[AgreementRead]
