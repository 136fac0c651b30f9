"""API bodies of the service catalogue: business services and what supports them."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from services.config.domain.items import CIStatus, Criticality
from services.config.schemas.impact import AffectedCI
from shared.http import ApiModel, Page


class ServiceRead(ApiModel):
    """A business service as the catalogue shows it."""

    id: UUID
    number: str
    name: str
    description: str
    owner: str | None
    status: CIStatus
    criticality: Criticality
    service_hours: str | None
    sla_tier: str | None
    member_count: int = Field(description="CIs that name it as their service")


ServicePage = Page[ServiceRead]


class ServiceDetail(ServiceRead):
    supporting: list[AffectedCI] = Field(description="What the service depends on, with the path to each")


class SinglePointOfFailure(ApiModel):
    """A CI whose loss alone cuts the service off from all of its supporting CIs of some type."""

    id: UUID
    number: str
    name: str
    type: str
    criticality: Criticality
    cut_off: int = Field(description="Supporting CIs the service no longer reaches without it (itself included)")
    types_lost: list[str] = Field(description="The CI types the service no longer reaches any of without it")


class ServiceSpofs(ApiModel):
    service_id: UUID
    items: list[SinglePointOfFailure] = Field(description="Most CIs cut off first, then by number")
