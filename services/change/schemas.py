"""HTTP bodies of the change API, split by direction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, Field

from services.change.domain import Change, ChangeStatus, ChangeType, CmdbOutcome, Risk
from shared.events.change import PlannedCIChange
from shared.http import ApiModel, Page


class ChangeCreate(ApiModel):
    """The requester is the caller (the token's subject), never a body field."""

    title: str | None = Field(
        default=None, min_length=1, max_length=200, description="Required, except with a template (its name)"
    )
    description: str = Field(default="", max_length=20_000)
    justification: str = Field(
        default="", max_length=20_000, description="Why the change is needed; required for an emergency change"
    )
    type: ChangeType = ChangeType.NORMAL
    category: str | None = Field(default=None, min_length=1, max_length=50, examples=["software"])
    planned_start: AwareDatetime | None = None
    planned_end: AwareDatetime | None = Field(default=None, description="After planned_start")
    affected_ci_ids: list[UUID] = Field(default_factory=list, max_length=500, description="Configuration items")
    planned_ci_changes: list[PlannedCIChange] = Field(
        default_factory=list, max_length=1000, description="What config applies, all or none, when it is implemented"
    )
    service_ids: list[UUID] = Field(
        default_factory=list,
        max_length=100,
        description="The services (service CIs) the change touches; the gate looks changes up by them",
    )
    template_id: UUID | None = Field(
        default=None,
        description="A standard change template: the change becomes a standard change with the template's plans,"
        " approved at once (no CAB); the title may be left to the template",
    )
    implementation_plan: str = Field(default="", max_length=20_000)
    backout_plan: str = Field(default="", max_length=20_000)
    test_plan: str = Field(default="", max_length=20_000)


class VoteRead(ApiModel):
    voter: str
    approve: bool
    comment: str
    at: datetime


class Assessment(ApiModel):
    risk: Risk | None = Field(
        default=None, description="Leave out to have it computed from config's impact analysis and history"
    )


class Decision(ApiModel):
    comment: str = Field(default="", max_length=2000)


class Failure(ApiModel):
    notes: str = Field(min_length=1, max_length=20_000, description="What failed and how it was backed out")


class Review(ApiModel):
    outcome: str = Field(min_length=1, max_length=20_000, description="Outcome, incidents it caused, lessons")


class ChangeRead(ApiModel):
    id: UUID
    number: str
    title: str
    description: str
    justification: str
    type: ChangeType
    category: str | None
    status: ChangeStatus
    requester: str
    planned_start: datetime | None
    planned_end: datetime | None
    affected_ci_ids: list[UUID]
    created_at: datetime
    updated_at: datetime
    version: int
    risk: Risk | None
    risk_reasons: list[str] = Field(description="How the risk was arrived at")
    planned_ci_changes: list[PlannedCIChange]
    votes: list[VoteRead]
    cmdb_outcome: CmdbOutcome = Field(description="Whether the CMDB applied the planned CI changes")
    cmdb_errors: list[dict[str, Any]]
    notes: str
    service_ids: list[UUID]
    template_id: UUID | None
    implementation_plan: str
    backout_plan: str
    test_plan: str
    allowed_actions: list[str]

    @classmethod
    def of(cls, item: Change) -> ChangeRead:
        return cls(
            id=item.id,
            number=item.number,
            title=item.title,
            description=item.description,
            justification=item.justification,
            type=item.change_type,
            category=item.category,
            status=item.status,
            requester=item.requester,
            planned_start=item.planned_start,
            planned_end=item.planned_end,
            affected_ci_ids=list(item.affected_ci_ids),
            created_at=item.created_at,
            updated_at=item.updated_at,
            version=item.version,
            risk=item.risk,
            risk_reasons=list(item.risk_reasons),
            planned_ci_changes=[PlannedCIChange.model_validate(c) for c in item.planned_ci_changes],
            votes=[VoteRead(voter=v.voter, approve=v.approve, comment=v.comment, at=v.at) for v in item.votes],
            cmdb_outcome=item.cmdb_outcome,
            cmdb_errors=[dict(e) for e in item.cmdb_errors],
            notes=item.notes,
            service_ids=list(item.service_ids),
            template_id=item.template_id,
            implementation_plan=item.implementation_plan,
            backout_plan=item.backout_plan,
            test_plan=item.test_plan,
            allowed_actions=item.allowed_actions(),
        )


ChangePage = Page[ChangeRead]


class ConflictRead(ApiModel):
    severity: str = Field(description="refused (a blackout) or warning (another change on the same CIs)")
    kind: str
    detail: str
    other: str = Field(description="The other change's number, or the blackout's name")
    ci_ids: list[UUID]


class BlackoutCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    start: AwareDatetime
    end: AwareDatetime
    ci_ids: list[UUID] = Field(default_factory=list, description="Empty: every CI")


class BlackoutRead(ApiModel):
    id: UUID
    name: str
    start: datetime
    end: datetime
    ci_ids: list[UUID]


class ScheduleEntry(ApiModel):
    change: ChangeRead
    conflicts: list[ConflictRead]


class ScheduleRead(ApiModel):
    start: datetime
    end: datetime
    changes: list[ScheduleEntry]
    blackouts: list[BlackoutRead]
