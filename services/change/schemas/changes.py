"""HTTP bodies of changes and their lifecycle, split by direction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, Field

from services.change.domain.cab import Risk
from services.change.domain.changes import Change, ChangeStatus, ChangeType, CmdbOutcome
from services.change.domain.design import ServiceTransition
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
        description="The services (service CIs) the change touches beside those of its CIs, which are added;"
        " the gate looks changes up by them",
    )
    template_id: UUID | None = Field(
        default=None,
        description="A standard change template: the change becomes a standard change with the template's plans,"
        " approved at once (no CAB); the title may be left to the template",
    )
    implementation_plan: str = Field(default="", max_length=20_000)
    backout_plan: str = Field(default="", max_length=20_000, description="How to reverse or remedy it; none adds risk")
    test_plan: str = Field(default="", max_length=20_000)
    major: bool = Field(
        default=False, description="Potential major impact: needs the design and transition record (clause 5)"
    )
    service_transition: ServiceTransition | None = Field(
        default=None, description="Introduces, removes or transfers a service: needs the design and transition record"
    )


class VoteRead(ApiModel):
    voter: str
    approve: bool
    comment: str
    at: datetime


class Failure(ApiModel):
    notes: str = Field(min_length=1, max_length=20_000, description="What failed and how it was backed out")
    backed_out: bool = Field(default=True, description="False: remedied in place rather than reversed")


class Review(ApiModel):
    outcome: str = Field(min_length=1, max_length=20_000, description="Was the change effective")
    lessons: str = Field(
        default="", max_length=20_000, description="Required for emergency, failed and design-and-transition changes"
    )
    objectives_met: bool | None = None


class ChangeIncidentRead(ApiModel):
    """An incident linked to the change (the release and deployment views show the same links)."""

    incident_id: UUID
    incident_number: str
    reason: str
    ci_id: UUID | None
    service_id: UUID | None
    linked_at: datetime


class ReviewRead(ApiModel):
    outcome: str
    lessons: str
    objectives_met: bool | None
    incident_ids: list[UUID] = Field(description="The incidents linked to the change when it was reviewed")
    by: str
    at: datetime


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
    assessed_by: str | None = Field(description="Who assessed the change")
    risk_set_by: str | None = Field(
        description="Who set its risk by hand (not computed); that person cannot be its only approver"
    )
    planned_ci_changes: list[PlannedCIChange]
    votes: list[VoteRead]
    cmdb_outcome: CmdbOutcome = Field(description="Whether the CMDB applied the planned CI changes")
    cmdb_errors: list[dict[str, Any]]
    notes: str
    allowed_actions: list[str]
    service_ids: list[UUID] = Field(description="Its CIs' services plus the ones named on it")
    template_id: UUID | None = Field(description="The standard change template it was made from")
    implementation_plan: str
    backout_plan: str
    test_plan: str
    major: bool
    service_transition: ServiceTransition | None
    needs_design: bool = Field(description="Goes through design and transition (clause 5)")
    design_missing: list[str] = Field(description="What its design and transition record lacks before approval")
    backed_out: bool | None
    closed_at: datetime | None = Field(
        description="When it was closed or cancelled (a final status): its retention period counts from here"
    )
    incidents: list[ChangeIncidentRead] = Field(description="Incidents linked to the change as caused by it")
    review: ReviewRead | None

    @classmethod
    def of(cls, item: Change) -> ChangeRead:
        return cls.from_record(
            item,
            type=item.change_type,
            affected_ci_ids=list(item.affected_ci_ids),
            risk_reasons=list(item.risk_reasons),
            planned_ci_changes=[PlannedCIChange.model_validate(c) for c in item.planned_ci_changes],
            votes=[VoteRead(voter=v.voter, approve=v.approve, comment=v.comment, at=v.at) for v in item.votes],
            cmdb_errors=[dict(e) for e in item.cmdb_errors],
            allowed_actions=item.allowed_actions(),
            service_ids=list(item.service_ids),
            needs_design=item.needs_design(),
            design_missing=item.design_missing(),
            incidents=[
                ChangeIncidentRead(
                    incident_id=i.incident_id,
                    incident_number=i.incident_number,
                    reason=i.reason,
                    ci_id=i.ci_id,
                    service_id=i.service_id,
                    linked_at=i.linked_at,
                )
                for i in item.incidents
            ],
            review=ReviewRead(
                outcome=item.pir.outcome,
                lessons=item.pir.lessons,
                objectives_met=item.pir.objectives_met,
                incident_ids=list(item.pir.incident_ids),
                by=item.pir.by,
                at=item.pir.at,
            )
            if item.pir
            else None,
        )


ChangePage = Page[ChangeRead]
