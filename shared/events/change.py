"""Events published by the change service."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events.envelope import EventData


class ChangeCreated(EventData):
    routing_key: ClassVar[str] = "change.created.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "A change request was recorded in draft (ISO/IEC 20000-1 9.2)."

    change_id: UUID
    number: str = Field(examples=["CHG0000001"])
    title: str
    type: str
    status: str
    requester: str
    created_at: datetime
    affected_ci_ids: list[UUID] = Field(default_factory=list)
    service_ids: list[UUID] = Field(default_factory=list)
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    major: bool | None = Field(default=None, description="Flagged as a change with potential major impact")
    service_transition: Literal["new_service", "service_removal", "service_transfer"] | None = None


class ChangeApproved(EventData):
    routing_key: ClassVar[str] = "change.approved.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = (
        "A change was approved for its window: config accepts edits of the CIs it names while it is open."
    )

    change_id: UUID
    number: str
    type: str
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    affected_ci_ids: list[UUID] = Field(default_factory=list)
    approved_at: datetime
    created_at: datetime | None = Field(default=None, description="When the change was recorded (lead time)")
    service_ids: list[UUID] = Field(default_factory=list)
    requested_by: str | None = Field(default=None, description="Who requested the change")
    assessed_by: str | None = Field(default=None, description="Who assessed the change (absent before assessment)")
    approved_by: list[str] = Field(
        default_factory=list, description="Who approved it, in order (empty for a standard change from a template)"
    )


class RelationshipRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    source_id: UUID
    type: str
    target_id: UUID


class PlannedCIChange(BaseModel):
    """One CI change a change plans; config applies them all or none when it is implemented."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    action: Literal["create", "update", "retire", "add_relationship", "remove_relationship"]
    ci_id: UUID | None = Field(default=None, description="The CI to update or retire")
    ci: dict[str, Any] | None = Field(
        default=None, description="For create: name, type and the other CI fields, as in POST /api/v1/cis"
    )
    attributes: dict[str, Any] | None = Field(
        default=None, description="For update: the CI fields to set (name, status, attributes, ...)"
    )
    relationship: RelationshipRef | None = None


class ChangeImplemented(EventData):
    routing_key: ClassVar[str] = "change.implemented.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "A change was implemented; config applies its planned CI changes atomically."

    change_id: UUID
    number: str
    implemented_at: datetime
    implemented_by: str
    planned_ci_changes: list[PlannedCIChange] = Field(
        default_factory=list, description="The CI changes the change planned, as in its API body"
    )
    ci_changes: list[PlannedCIChange] = Field(
        default_factory=list,
        deprecated=True,
        description="The same list as `planned_ci_changes`, under its former name; sent until v2",
    )
    type: str | None = None
    created_at: datetime | None = Field(default=None, description="When the change was recorded (lead time)")
    affected_ci_ids: list[UUID] = Field(default_factory=list)
    service_ids: list[UUID] = Field(default_factory=list)
    requested_by: str | None = Field(default=None, description="Who requested the change")
    assessed_by: str | None = Field(default=None, description="Who assessed the change (absent before assessment)")
    approved_by: list[str] = Field(
        default_factory=list, description="Who approved it, in order (empty for a standard change from a template)"
    )
    major_environment_change: bool | None = Field(
        default=None,
        description="A major change to the service environment: the continuity plans covering its services are"
        " due a re-test (absent from producers older than the field)",
    )

    @model_validator(mode="before")
    @classmethod
    def _one_list_under_both_names(cls, data: Any) -> Any:
        """Producers before `planned_ci_changes` existed sent only `ci_changes`: either name fills both."""
        if isinstance(data, dict):
            planned = data.get("planned_ci_changes") or data.get("ci_changes") or []
            data = {**data, "planned_ci_changes": planned, "ci_changes": planned}
        return data


class ChangeStatusEvent(EventData):
    """What every lifecycle event of a change carries (the base of the per-status types)."""

    change_id: UUID
    number: str
    type: str
    status: str
    previous_status: str
    actor: str
    occurred_at: datetime
    # What consumers aggregate by (reporting's change figures, incident's change-caused links).
    created_at: datetime | None = None
    affected_ci_ids: list[UUID] = Field(default_factory=list)
    service_ids: list[UUID] = Field(default_factory=list)
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    major: bool | None = Field(default=None, description="Flagged as a change with potential major impact")
    service_transition: Literal["new_service", "service_removal", "service_transfer"] | None = None
    requested_by: str | None = Field(default=None, description="Who requested the change")
    assessed_by: str | None = Field(default=None, description="Who assessed the change (absent before assessment)")
    approved_by: list[str] = Field(
        default_factory=list, description="Who approved it, in order (empty for a standard change from a template)"
    )


class ChangeSubmitted(ChangeStatusEvent):
    routing_key: ClassVar[str] = "change.submitted.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = (
        "A change was submitted for assessment (a standard change from a template is approved at once)."
    )


class ChangeAssessed(ChangeStatusEvent):
    routing_key: ClassVar[str] = "change.assessed.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "A change's risk was assessed; it now waits for approval."

    risk: str


class ChangeRejected(ChangeStatusEvent):
    routing_key: ClassVar[str] = "change.rejected.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "A change was rejected by its approvers."

    reason: str


class ChangeScheduled(ChangeStatusEvent):
    routing_key: ClassVar[str] = "change.scheduled.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "An approved change was put on the change schedule for its window."


class ChangeImplementing(ChangeStatusEvent):
    routing_key: ClassVar[str] = "change.implementing.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "Implementation of a change started."


class ChangeFailed(ChangeStatusEvent):
    routing_key: ClassVar[str] = "change.failed.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "A change failed and was backed out."

    notes: str
    backed_out: bool = True


class ChangeReviewed(ChangeStatusEvent):
    routing_key: ClassVar[str] = "change.reviewed.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "The post-implementation review of a change was recorded."

    outcome: str
    lessons: str | None = None
    objectives_met: bool | None = None
    incident_ids: list[UUID] = Field(
        default_factory=list, description="Incidents linked to the change (caused by it) when it was reviewed"
    )


class ChangeClosed(ChangeStatusEvent):
    routing_key: ClassVar[str] = "change.closed.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "A change was closed."

    go_live_accepted: bool | None = Field(
        default=None, description="For a change through design and transition: whether go-live was accepted"
    )


class ChangeCancelled(ChangeStatusEvent):
    routing_key: ClassVar[str] = "change.cancelled.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "A change was withdrawn before implementation."


# Releases and deployments (ISO/IEC 20000-1 9.3)


class ReleaseEvent(EventData):
    """What every release event carries."""

    release_id: UUID
    number: str = Field(examples=["REL0000001"])
    name: str
    version: str = Field(examples=["2.4.0"])
    type: Literal["major", "minor", "emergency"]
    status: str
    service_id: UUID | None = None
    change_ids: list[UUID] = Field(default_factory=list)
    known_error_ids: list[UUID] = Field(default_factory=list)
    planned_date: datetime | None = None
    actor: str
    occurred_at: datetime


class ReleaseCreated(ReleaseEvent):
    routing_key: ClassVar[str] = "release.created.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = "A release was planned: its version, type, changes and known errors."


class ReleaseStatusChanged(ReleaseEvent):
    routing_key: ClassVar[str] = "release.status_changed.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = (
        "A release moved on in its lifecycle (for example accepted after its acceptance test, deployed, closed)."
    )

    previous_status: str
    acceptance_result: str | None = None


class DeploymentRecorded(EventData):
    routing_key: ClassVar[str] = "deployment.recorded.v1"
    producer: ClassVar[str] = "change"
    description: ClassVar[str] = (
        "A deployment to an environment was recorded, from the API or a CI/CD notification, with its change."
    )

    deployment_id: UUID
    service_id: UUID | None = None
    service: str = Field(description="The deployed service's name as the pipeline knows it")
    environment: str = Field(examples=["test", "staging", "production"])
    version: str | None = None
    release_id: UUID | None = None
    change_id: UUID | None = None
    change_number: str | None = None
    result: Literal["in_progress", "succeeded", "failed", "rolled_back"]
    started_at: datetime | None = None
    finished_at: datetime | None = None
    commit_sha: str | None = None
    source: str = Field(default="api", examples=["api", "generic", "github"])
    url: str | None = None
    recorded_at: datetime
