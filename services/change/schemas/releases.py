"""HTTP bodies of templates, releases, deployments, pipeline notifications and the gate."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.change.delivery.domain import (
    AcceptanceResult,
    ChangeTemplate,
    Deployment,
    DeploymentResult,
    Environment,
    GateAnswer,
    Release,
    ReleaseStatus,
    ReleaseType,
    TemplateChange,
)
from services.change.domain import Change, ChangeStatus, ChangeType
from services.change.schemas import ChangeCreate
from shared.errors import RuleViolation
from shared.events.change import PlannedCIChange
from shared.http import ApiModel, Page

# ---------------------------------------------------------------------------- templates

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


class TemplateUpdate(ApiModel):
    """The fields to change; the others stay."""

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
        for required in ("name", "implementation_plan", "backout_plan", "active", "pipeline_default"):
            if required in values and values[required] is None:
                raise RuleViolation(f"{required} cannot be emptied", field=required)
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
        return cls(
            id=t.id,
            name=t.name,
            description=t.description,
            category=t.category,
            service_id=t.service_id,
            pipeline_names=list(t.pipeline_names),
            implementation_plan=t.implementation_plan,
            backout_plan=t.backout_plan,
            test_plan=t.test_plan,
            default_duration_minutes=int(t.default_duration.total_seconds() // 60),
            risk=ChangeTemplate.RISK,
            active=t.active,
            pipeline_default=t.pipeline_default,
            created_by=t.created_by,
            created_at=t.created_at,
            updated_at=t.updated_at,
            version=t.version,
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


# ---------------------------------------------------------------------------- releases


class ReleaseCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=100, examples=["2.4.0"])
    type: ReleaseType = ReleaseType.MINOR
    service_id: UUID | None = None
    change_ids: list[UUID] = Field(default_factory=list, max_length=500, description="The changes it contains")
    known_error_ids: list[UUID] = Field(default_factory=list, max_length=500, description="Known errors it fixes")
    planned_date: AwareDatetime | None = None
    acceptance_criteria: list[str] = Field(
        default_factory=list, max_length=100, description="Agreed with the customer; needed before acceptance"
    )


class AcceptanceBody(ApiModel):
    notes: str = Field(min_length=1, max_length=20_000, description="The acceptance test and what it showed")


class Notes(ApiModel):
    notes: str = Field(min_length=1, max_length=20_000)


class IncidentLinkRead(ApiModel):
    incident_id: UUID
    incident_number: str
    change_id: UUID
    reason: str
    ci_id: UUID | None
    service_id: UUID | None
    linked_at: datetime
    after_release: bool | None = Field(
        default=None, description="Linked after the release was deployed (None for a release not deployed yet)"
    )


class DeploymentRead(ApiModel):
    id: UUID
    service: str
    service_id: UUID | None
    environment: Environment
    version: str | None
    release_id: UUID | None
    change_id: UUID | None
    change_number: str | None
    result: DeploymentResult
    started_at: datetime | None
    finished_at: datetime | None
    commit_sha: str | None
    ref: str | None
    url: str | None
    source: str
    external_id: str | None
    verification: str
    rollback_notes: str
    recorded_by: str
    recorded_at: datetime
    updated_at: datetime
    version_tag: int = Field(description="The record's version (ETag)")
    incidents: list[IncidentLinkRead] = Field(default_factory=list, description="Incidents linked to its change")

    @classmethod
    def of(cls, d: Deployment, incidents: list[IncidentLinkRead] | None = None) -> DeploymentRead:
        return cls(
            id=d.id,
            service=d.service,
            service_id=d.service_id,
            environment=d.environment,
            version=d.version,
            release_id=d.release_id,
            change_id=d.change_id,
            change_number=d.change_number,
            result=d.result,
            started_at=d.started_at,
            finished_at=d.finished_at,
            commit_sha=d.commit_sha,
            ref=d.ref,
            url=d.url,
            source=d.source,
            external_id=d.external_id,
            verification=d.verification,
            rollback_notes=d.rollback_notes,
            recorded_by=d.recorded_by,
            recorded_at=d.recorded_at,
            updated_at=d.updated_at,
            version_tag=d.row_version,
            incidents=incidents or [],
        )


DeploymentPage = Page[DeploymentRead]


class ReleaseRead(ApiModel):
    id: UUID
    number: str
    name: str
    version: str
    type: ReleaseType
    service_id: UUID | None
    change_ids: list[UUID]
    known_error_ids: list[UUID]
    planned_date: datetime | None
    acceptance_criteria: list[str]
    acceptance_result: AcceptanceResult | None
    acceptance_notes: str
    acceptance_by: str | None
    status: ReleaseStatus
    created_by: str
    created_at: datetime
    updated_at: datetime
    deployed_at: datetime | None
    notes: str
    row_version: int
    allowed_actions: list[str]
    deployments: list[DeploymentRead] = Field(default_factory=list)
    incidents: list[IncidentLinkRead] = Field(
        default_factory=list, description="Incidents linked to its changes (9.3: incidents after it went out)"
    )

    @classmethod
    def of(
        cls,
        r: Release,
        deployments: list[DeploymentRead] | None = None,
        incidents: list[IncidentLinkRead] | None = None,
    ) -> ReleaseRead:
        return cls(
            id=r.id,
            number=r.number,
            name=r.name,
            version=r.version,
            type=r.release_type,
            service_id=r.service_id,
            change_ids=list(r.change_ids),
            known_error_ids=list(r.known_error_ids),
            planned_date=r.planned_date,
            acceptance_criteria=list(r.acceptance_criteria),
            acceptance_result=r.acceptance_result,
            acceptance_notes=r.acceptance_notes,
            acceptance_by=r.acceptance_by,
            status=r.status,
            created_by=r.created_by,
            created_at=r.created_at,
            updated_at=r.updated_at,
            deployed_at=r.deployed_at,
            notes=r.notes,
            row_version=r.row_version,
            allowed_actions=r.allowed_actions(),
            deployments=deployments or [],
            incidents=incidents or [],
        )


ReleasePage = Page[ReleaseRead]


# ---------------------------------------------------------------------------- deployments


class DeploymentCreate(ApiModel):
    """A deployment recorded by hand (or by a tool using the API with a token)."""

    service: str = Field(min_length=1, max_length=200, description="The service's name as its pipeline knows it")
    service_id: UUID | None = None
    environment: Environment
    version: str | None = Field(default=None, max_length=100)
    result: DeploymentResult
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    commit_sha: str | None = Field(default=None, max_length=64, pattern=r"^[0-9a-fA-F]{7,64}$")
    url: str | None = Field(default=None, max_length=2000)
    change_id: UUID | None = None
    change_number: str | None = Field(default=None, max_length=20, pattern=r"^[Cc][Hh][Gg]\d{7}$")
    release_id: UUID | None = None
    verification: str = Field(default="", max_length=20_000)


class Verification(ApiModel):
    verification: str = Field(min_length=1, max_length=20_000, description="What was checked and what it showed")
    passed: bool


class ChangeRef(ApiModel):
    id: UUID
    number: str
    type: ChangeType
    status: ChangeStatus
    template_id: UUID | None

    @classmethod
    def of(cls, c: Change) -> ChangeRef:
        return cls(id=c.id, number=c.number, type=c.change_type, status=c.status, template_id=c.template_id)


class PipelineAnswer(ApiModel):
    deployment: DeploymentRead | None
    change: ChangeRef | None = None
    change_created: bool = Field(default=False, description="A standard change was made from a template for it")
    duplicate: bool = Field(default=False, description="The same notification was taken before; nothing changed")
    ignored: str | None = Field(default=None, description="Why a notification was taken without recording anything")
    warnings: list[str] = Field(default_factory=list)


class GenericDeploymentEvent(ApiModel):
    """The generic notification any CI/CD system can send (a `curl` at the end of a deploy job).

    Several notifications with the same `deployment_id` update one deployment (in_progress, then
    succeeded or failed); `event_id`, when given, makes a retried notification harmless.
    """

    service: str = Field(min_length=1, max_length=200, examples=["checkout"])
    service_id: UUID | None = None
    environment: str = Field(min_length=1, max_length=50, examples=["production"])
    version: str | None = Field(default=None, max_length=100, examples=["2.4.0"])
    status: DeploymentResult
    commit_sha: str | None = Field(default=None, max_length=64, pattern=r"^[0-9a-fA-F]{7,64}$")
    ref: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=2000, description="The pipeline run")
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    change_number: str | None = Field(default=None, max_length=20, pattern=r"^[Cc][Hh][Gg]\d{7}$")
    release_id: UUID | None = None
    deployment_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The pipeline's id of this deployment (a run id)"
    )
    event_id: str | None = Field(default=None, min_length=1, max_length=200, description="Unique per notification")


# GitHub's `deployment_status` webhook, as GitHub sends it: only the fields used are declared,
# the rest (sender, creator, installation, urls...) is ignored.


class _GitHub(BaseModel):
    model_config = ConfigDict(extra="ignore")


class GitHubDeploymentStatus(_GitHub):
    id: int
    state: Literal["error", "failure", "inactive", "in_progress", "queued", "pending", "success", "waiting"]
    description: str | None = None
    environment: str | None = None
    target_url: str | None = None
    log_url: str | None = None
    environment_url: str | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class GitHubDeployment(_GitHub):
    id: int
    sha: str = Field(max_length=64)
    ref: str | None = Field(default=None, max_length=255)
    task: str | None = None
    payload: dict[str, Any] | str | None = None
    environment: str = Field(min_length=1, max_length=100)
    description: str | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class GitHubRepository(_GitHub):
    id: int | None = None
    full_name: str = Field(min_length=1, max_length=200)
    html_url: str | None = None


class GitHubDeploymentStatusEvent(_GitHub):
    action: str | None = None
    deployment_status: GitHubDeploymentStatus
    deployment: GitHubDeployment
    repository: GitHubRepository


# ---------------------------------------------------------------------------- the gate


class GateChange(ApiModel):
    id: UUID
    number: str
    status: str
    start: datetime
    end: datetime


class GateBlackout(ApiModel):
    id: UUID
    name: str
    start: datetime
    end: datetime


class GateRead(ApiModel):
    """Pipelines block on `allowed`: deploy when it is true, stop (and show `reasons`) when false."""

    allowed: bool
    service: str
    service_id: UUID | None
    environment: Environment
    at: datetime
    reasons: list[str]
    change: GateChange | None = Field(default=None, description="The approved change whose window is open")
    template: TemplateRead | None = Field(default=None, description="The standard change template that applies")
    blackouts: list[GateBlackout] = Field(default_factory=list, description="Blackouts in force that refuse it")

    @classmethod
    def of(
        cls, answer: GateAnswer, *, service: str, service_id: UUID | None, environment: Environment, at: datetime
    ) -> GateRead:
        c = answer.change
        return cls(
            allowed=answer.allowed,
            service=service,
            service_id=service_id,
            environment=environment,
            at=at,
            reasons=list(answer.reasons),
            change=GateChange(id=c.id, number=c.number, status=c.status, start=c.start, end=c.end) if c else None,
            template=TemplateRead.of(answer.template) if answer.template else None,
            blackouts=[GateBlackout(id=b.id, name=b.name, start=b.start, end=b.end) for b in answer.blackouts],
        )
