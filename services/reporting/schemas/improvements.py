"""API bodies of the improvement register (ISO/IEC 20000-1 4.5.5)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from services.reporting.domain.improvements import Improvement, ImprovementAction, IntakePolicy
from shared.http import ApiModel, Page, UpdateModel

Person = Annotated[str, Field(min_length=1, max_length=200)]
Figure = Annotated[float, Field(ge=-1e12, le=1e12, allow_inf_nan=False)]
Kind = Literal["improvement", "nonconformity"]
HandSource = Literal["manual", "report_finding", "audit_finding"]
"""The sources a person may name; the others are the intake's (from events)."""


class BenefitBody(ApiModel):
    measure: str = Field(default="", max_length=200, examples=["P1 resolution time (hours)"])
    before: Figure | None = None
    after: Figure | None = None


class ImprovementCreate(ApiModel):
    kind: Kind = "improvement"
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    source: HandSource = "manual"
    source_ref: str = Field(default="", max_length=200, description="The record it came from, if any")
    owner: Person
    target_date: date
    measure: str = Field(default="", max_length=200, description="The figure it is meant to move")
    before: Figure | None = Field(default=None, description="The figure measured before")


class ImprovementUpdate(UpdateModel):
    required_on_record = ("owner", "target_date", "description", "measure")

    owner: Person | None = None
    target_date: date | None = None
    description: str | None = Field(default=None, max_length=20_000)
    measure: str | None = Field(default=None, max_length=200)
    before: Figure | None = None


class ImprovementActionBody(ApiModel):
    action: Literal["accept", "start", "implement", "close", "reject", "reopen"]
    after: Figure | None = Field(default=None, description="Closing: the figure measured after")
    reason: str = Field(default="", max_length=2000, description="Rejecting or reopening: why")

    def command(self) -> ImprovementAction:
        return ImprovementAction(self.action)


class ImprovementRead(ApiModel):
    id: UUID
    number: str
    kind: Kind
    title: str
    description: str
    source: str
    source_ref: str
    owner: str
    target_date: date
    status: str
    allowed_actions: list[str]
    benefit: BenefitBody
    benefit_change: float | None = Field(description="after - before, once both are measured")
    reason: str
    raised_by: str
    raised_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    version: int

    @classmethod
    def of(cls, entry: Improvement) -> ImprovementRead:
        b = entry.benefit
        return cls.from_record(
            entry,
            kind=entry.kind.value,
            source=entry.source.value,
            status=entry.status.value,
            allowed_actions=entry.allowed(),
            benefit=BenefitBody(measure=b.measure, before=b.before, after=b.after),
            benefit_change=b.change,
        )


ImprovementPage = Page[ImprovementRead]


class IntakePolicyBody(ApiModel):
    sla_breach_threshold: int = Field(ge=1, le=10_000, description="Breaches per service and month that raise an entry")
    low_score_max: int = Field(ge=1, le=5, description="A survey score at or below this raises an entry")
    default_owner: Person
    target_days: int = Field(ge=1, le=3650, description="Days from raising to an event-raised entry's target date")

    @classmethod
    def of(cls, policy: IntakePolicy) -> IntakePolicyBody:
        return cls.from_record(policy)

    def policy(self) -> IntakePolicy:
        return IntakePolicy(**self.model_dump())
