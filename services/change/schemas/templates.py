"""HTTP bodies of standard change templates and of the standard changes made from them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, Field

from services.change.domain.changes import ChangeType
from services.change.domain.templates import ChangeTemplate, TemplateChange
from services.change.schemas.changes import ChangeCreate
from shared.errors import RuleViolation
from shared.events.change import PlannedCIChange
from shared.http import ApiModel, UpdateModel

Names = list[str]


class TemplateCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200, examples=["Deploy checkout from its pipeline"])
    description: str = Field(default="", max_length=20_000)
    category: str | None = Field(default=None, min_length=1, max_length=50, examples=["software"])
    service_id: UUID | None = Field(default=None, description="The service (service CI) the model is for")
    pipeline_names: Names = Field(
        default_factory=list,
        max_length=50,
        description="Names pipelines call the service by: a GitHub repository's full name (owner/repo), a service name",
        examples=[["acme/checkout", "checkout"]],
    )
    implementation_plan: str = Field(min_length=1, max_length=20_000)
    backout_plan: str = Field(min_length=1, max_length=20_000)
    test_plan: str = Field(default="", max_length=20_000)
    default_duration_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60, description="The change's window")
    active: bool = True
    pipeline_default: bool = Field(
        default=False, description="Use for pipeline deployments of services no template names"
    )

    def fields(self) -> dict[str, Any]:
        values = self.model_dump(exclude={"default_duration_minutes"})
        values["default_duration"] = timedelta(minutes=self.default_duration_minutes)
        values["pipeline_names"] = tuple(self.pipeline_names)
        return values


class TemplateUpdate(UpdateModel):
    """The fields to change; the others stay."""

    required_on_record = (
        "name",
        "description",
        "implementation_plan",
        "backout_plan",
        "test_plan",
        "active",
        "pipeline_default",
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    category: str | None = Field(default=None, min_length=1, max_length=50)
    service_id: UUID | None = None
    pipeline_names: Names | None = Field(default=None, max_length=50)
    implementation_plan: str | None = Field(default=None, min_length=1, max_length=20_000)
    backout_plan: str | None = Field(default=None, min_length=1, max_length=20_000)
    test_plan: str | None = Field(default=None, max_length=20_000)
    default_duration_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    active: bool | None = None
    pipeline_default: bool | None = None

    def fields(self) -> dict[str, Any]:
        values = self.model_dump(exclude_unset=True, exclude={"default_duration_minutes"})
        if self.default_duration_minutes is not None:
            values["default_duration"] = timedelta(minutes=self.default_duration_minutes)
        if "pipeline_names" in values:
            values["pipeline_names"] = tuple(values["pipeline_names"] or ())
        return values


class TemplateRead(ApiModel):
    id: UUID
    name: str
    description: str
    category: str | None
    service_id: UUID | None
    pipeline_names: Names
    implementation_plan: str
    backout_plan: str
    test_plan: str
    default_duration_minutes: int
    risk: str = Field(description="Always low: a standard change is pre-approved because it is low risk")
    active: bool
    pipeline_default: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, t: ChangeTemplate) -> TemplateRead:
        return cls.from_record(
            t,
            pipeline_names=list(t.pipeline_names),
            default_duration_minutes=int(t.default_duration.total_seconds() // 60),
            risk=ChangeTemplate.RISK,
        )


class TemplateChangeCreate(ApiModel):
    """A standard change from the template: everything else comes from the template."""

    title: str | None = Field(default=None, min_length=1, max_length=200, description="Default: the template's name")
    description: str | None = Field(default=None, max_length=20_000)
    justification: str = Field(default="", max_length=20_000)
    planned_start: AwareDatetime | None = Field(default=None, description="Default: now")
    planned_end: AwareDatetime | None = Field(default=None, description="Default: start + the template's duration")
    affected_ci_ids: list[UUID] = Field(default_factory=list, max_length=500)
    service_ids: list[UUID] = Field(default_factory=list, max_length=100, description="Default: the template's")
    planned_ci_changes: list[PlannedCIChange] = Field(default_factory=list, max_length=1000)

    def request(self) -> TemplateChange:
        return TemplateChange(
            title=self.title,
            description=self.description,
            justification=self.justification,
            planned_start=self.planned_start,
            planned_end=self.planned_end,
            affected_ci_ids=tuple(self.affected_ci_ids),
            service_ids=tuple(self.service_ids),
            planned_ci_changes=tuple(c.model_dump(mode="json", exclude_none=True) for c in self.planned_ci_changes),
        )


def template_change_request(body: ChangeCreate) -> TemplateChange:
    """`POST /changes` with a `template_id`: the change is a standard change from it."""
    if "type" in body.model_fields_set and body.type is not ChangeType.STANDARD:
        raise RuleViolation("a change from a template is a standard change", field="type")
    if body.major or body.service_transition is not None:
        raise RuleViolation(
            "a major change, or one that introduces, removes or transfers a service, goes through design and"
            " transition: it cannot be a standard change from a template",
            field="major" if body.major else "service_transition",
        )
    for plan in ("implementation_plan", "backout_plan", "test_plan"):
        if getattr(body, plan):
            raise RuleViolation("a change from a template follows the template's plans", field=plan)
    return TemplateChange(
        title=body.title,
        description=body.description or None,
        justification=body.justification,
        planned_start=body.planned_start,
        planned_end=body.planned_end,
        affected_ci_ids=tuple(body.affected_ci_ids),
        service_ids=tuple(body.service_ids),
        planned_ci_changes=tuple(c.model_dump(mode="json", exclude_none=True) for c in body.planned_ci_changes),
    )
