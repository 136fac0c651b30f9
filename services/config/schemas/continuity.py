"""API bodies of service continuity and availability (6.3): plans (every free-form part bounded),
their versions, tests, invocations, and the continuity pack's content."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.http import ApiModel, Page

Text = Annotated[str, Field(min_length=1, max_length=4000)]
Line = Annotated[str, Field(min_length=1, max_length=500)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class RecoveryTargetBody(ApiModel):
    service_id: UUID
    rto_minutes: int = Field(ge=0, le=525_600, description="Recovery time objective")
    rpo_minutes: int = Field(ge=0, le=525_600, description="Recovery point objective (data loss allowed)")


class TargetWhileInvoked(ApiModel):
    service_id: UUID
    availability_percent: float = Field(ge=0, le=100, allow_inf_nan=False)
    notes: str = Field(default="", max_length=500)


class Contact(ApiModel):
    name: Name
    role: Name
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=254)
    alternate: str = Field(default="", max_length=200, description="Who stands in when they cannot be reached")


class PlanDocument(ApiModel):
    """What a plan says; every version holds all of it."""

    kind: Literal["continuity", "availability"]
    title: Name
    service_ids: list[UUID] = Field(min_length=1, max_length=50, description="The catalogue services it covers")
    invocation_criteria: Text
    invocation_authority: Line = Field(description="Who may invoke the plan")
    recovery_targets: list[RecoveryTargetBody] = Field(default_factory=list, max_length=50)
    targets_while_invoked: list[TargetWhileInvoked] = Field(default_factory=list, max_length=50)
    procedures: list[Text] = Field(min_length=1, max_length=100, description="The steps, in order")
    return_to_normal: Text
    contacts: list[Contact] = Field(min_length=1, max_length=100)
    test_interval_days: int = Field(default=365, ge=1, le=1095, description="How often it is tested")


class PlanCreate(PlanDocument):
    """The first version of a plan (later versions need an approved change)."""


class PlanRevise(PlanDocument):
    change_number: str = Field(
        min_length=1, max_length=20, description="The approved change, in its window, naming the plan or a service"
    )


class PlanRead(PlanDocument):
    id: UUID
    version: int
    test_due_by: datetime
    test_status: Literal["ok", "due", "overdue"]
    retest_change_number: str | None = Field(description="The major change that made a re-test due, until tested")
    last_tested_at: datetime | None
    created_at: datetime
    updated_at: datetime
    updated_by: str


PlanPage = Page[PlanRead]


class PlanVersionRead(ApiModel):
    version: int
    change_number: str | None
    recorded_at: datetime
    recorded_by: str
    snapshot: dict[str, Any]


class PlanVersions(ApiModel):
    items: list[PlanVersionRead]


class RequirementResult(ApiModel):
    requirement: Line = Field(description="The continuity or availability requirement tested (an RTO, a target)")
    result: Line
    met: bool


class Review(ApiModel):
    held_on: date
    held_by: Name
    notes: Text


class ContinuityTestCreate(ApiModel):
    type: Literal["tabletop", "failover", "full_dr", "backup_restore"]
    tested_at: AwareDatetime
    scope: Text
    results: list[RequirementResult] = Field(min_length=1, max_length=100)
    deficiencies: list[Line] = Field(default_factory=list, max_length=100)
    actions: list[Line] = Field(default_factory=list, max_length=100)
    review: Review | None = Field(default=None, description="The review held after the test")


class ContinuityTestRead(ContinuityTestCreate):
    id: UUID
    plan_id: UUID
    plan_version: int
    recorded_at: datetime
    recorded_by: str


ContinuityTestPage = Page[ContinuityTestRead]


class TimelineEntry(ApiModel):
    at: AwareDatetime
    note: Line


class InvocationCreate(ApiModel):
    major_incident_number: str = Field(pattern=r"^INC\d{7,10}$", examples=["INC0000042"])
    reason: Text
    invoked_at: AwareDatetime
    timeline: list[TimelineEntry] = Field(default_factory=list, max_length=200)


class InvocationReturn(ApiModel):
    returned_to_normal_at: AwareDatetime
    timeline: list[TimelineEntry] = Field(default_factory=list, max_length=200, description="Entries to add")


class InvocationRead(ApiModel):
    id: UUID
    plan_id: UUID
    status: Literal["invoked", "returned_to_normal", "reviewed"]
    major_incident_number: str
    reason: str
    invoked_at: datetime
    invoked_by: str
    timeline: list[TimelineEntry]
    returned_to_normal_at: datetime | None
    review: Review | None
    version: int


class PackRead(ApiModel):
    """What the continuity pack holds, as of `exported_at` (the export is recorded)."""

    export_id: UUID
    exported_at: datetime
    exported_by: str
    plans: list[PlanRead]
    services: list[dict[str, Any]] = Field(
        description="The services the plans cover, each with its CIs and its `single_points_of_failure` (as"
        " `GET /api/v1/services/{id}/single-points-of-failure` lists them; null when the service depends on"
        " too many CIs to analyse)"
    )
    relationships: list[dict[str, Any]] = Field(description="Relationships among those services and CIs")
