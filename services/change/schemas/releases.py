"""HTTP bodies of releases."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, Field

from services.change.domain.releases import AcceptanceResult, Release, ReleaseStatus, ReleaseType
from services.change.schemas.deployments import DeploymentRead, IncidentLinkRead
from shared.http import ApiModel, Page


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
    closed_at: datetime | None = Field(
        description="When it was closed or cancelled (a final status): its retention period counts from here"
    )
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
        return cls.from_record(
            r,
            type=r.release_type,
            change_ids=list(r.change_ids),
            known_error_ids=list(r.known_error_ids),
            acceptance_criteria=list(r.acceptance_criteria),
            allowed_actions=r.allowed_actions(),
            deployments=deployments or [],
            incidents=incidents or [],
        )


ReleasePage = Page[ReleaseRead]
