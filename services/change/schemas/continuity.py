"""API bodies of a change's continuity and availability impact (6.3.2)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.http import ApiModel

Level = Literal["none", "low", "high"]


class ContinuityImpactWrite(ApiModel):
    continuity_impact: Level = Field(description="Impact on the continuity plans of the services it touches")
    availability_impact: Level = Field(description="Impact on the availability plans and targets")
    notes: str = Field(default="", max_length=4000, description="What the impact is (needed unless both are none)")


class ContinuityImpactRead(ApiModel):
    continuity_tier_services: list[UUID] = Field(
        description="The change's services a continuity or availability plan covers"
    )
    required: bool = Field(description="Whether the impact must be stated before assessment")
    continuity_impact: Level | None
    availability_impact: Level | None
    notes: str | None
