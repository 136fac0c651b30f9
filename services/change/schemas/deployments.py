"""HTTP bodies of deployments, and of the incidents linked to the changes they (and releases) carry."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, Field

from services.change.domain.changes import Change, ChangeStatus, ChangeType
from services.change.domain.deployments import Deployment, DeploymentResult, Environment
from shared.http import ApiModel, Page


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
        return cls.from_record(d, version_tag=d.row_version, incidents=incidents or [])


DeploymentPage = Page[DeploymentRead]


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
        return cls.from_record(c, type=c.change_type)
