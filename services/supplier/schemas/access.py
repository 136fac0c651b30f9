"""API bodies of the external-party access register (6.6.2): request, grant, review, revoke, read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field

from services.supplier.domain.access import (
    MAX_HOLDERS,
    MAX_REVIEW_INTERVAL_DAYS,
    AccessGrant,
    AccessType,
    Classification,
    GrantStatus,
    ReviewOutcome,
)
from shared.http import ApiModel, Page

Holder = Annotated[str, Field(min_length=1, max_length=200)]


class AccessGrantCreate(ApiModel):
    contract_id: UUID = Field(description="The contract with this supplier that the access rests on")
    legal_basis: str = Field(
        default="", max_length=2_000, description="The clause, data processing agreement or other basis, in words"
    )
    service_id: UUID | None = Field(default=None, description="The service reached (a CI known from config)")
    ci_id: UUID | None = Field(default=None, description="The configuration item reached")
    system: str = Field(default="", max_length=200, description="A system reached, by name, beside or instead")
    access_type: AccessType
    classification: Classification = Field(description="The highest classification of information reached")
    purpose: str = Field(min_length=1, max_length=5_000, description="Why the supplier needs the access")
    holders: list[Holder] = Field(
        min_length=1, max_length=MAX_HOLDERS, description="The named people or systems of the supplier holding it"
    )
    owner: str = Field(min_length=1, max_length=200, description="Accountable for the access on our side")
    expires_on: AwareDatetime
    review_interval_days: int = Field(default=90, ge=1, le=MAX_REVIEW_INTERVAL_DAYS)


class GrantStep(ApiModel):
    note: str = Field(default="", max_length=5_000)


class ReviewBody(ApiModel):
    outcome: ReviewOutcome
    notes: str = Field(default="", max_length=5_000, description="Required to reduce or revoke")
    holders: list[Holder] | None = Field(
        default=None, min_length=1, max_length=MAX_HOLDERS, description="To reduce: the holders who keep it"
    )
    expires_on: AwareDatetime | None = Field(default=None, description="To reduce: an earlier expiry")


class RevokeBody(ApiModel):
    reason: str = Field(min_length=1, max_length=5_000)


class AccessGrantRead(ApiModel):
    id: UUID
    number: str
    supplier_id: UUID
    contract_id: UUID
    legal_basis: str
    service_id: UUID | None
    ci_id: UUID | None
    system: str
    access_type: AccessType
    classification: Classification
    purpose: str
    holders: list[str]
    owner: str
    status: GrantStatus
    requested_by: str
    granted_on: datetime | None
    granted_by: str | None
    expires_on: datetime
    review_interval_days: int
    next_review_on: datetime | None
    last_reviewed_on: datetime | None
    last_reviewed_by: str | None
    last_review_outcome: ReviewOutcome | None
    last_review_notes: str
    ended_reason: str
    allowed_actions: list[str]
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, g: AccessGrant) -> AccessGrantRead:
        return cls.from_record(g, holders=list(g.holders), allowed_actions=g.allowed_actions())


AccessGrantPage = Page[AccessGrantRead]
