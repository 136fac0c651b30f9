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
