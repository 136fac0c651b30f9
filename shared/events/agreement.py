"""Events published by the configuration service about service level and operational level
agreements (ISO/IEC 20000-1 6.1, 8.3.3): a version agreed, superseded by a newer one, or retired.
Each carries the version's terms, so that a consumer (the incident service's SLA policies,
reporting's compliance per customer) needs nothing else."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventData


class AgreementTarget(BaseModel):
    """The agreed times for one priority, in minutes of the agreement's business-hours calendar."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    priority: int = Field(ge=1, le=5)
    response_minutes: int = Field(ge=1)
    resolution_minutes: int = Field(ge=1)


class AgreementEvent(EventData):
    """What every agreement event carries: the version's terms and where it stands."""

    agreement_id: UUID = Field(description="This version's id")
    number: str = Field(examples=["SLA0000001"], description="The agreement's number, the same for every version")
    document_version: int = Field(ge=1)
    kind: Literal["sla", "ola"]
    title: str
    customer_id: UUID | None = Field(default=None, description="An SLA's customer")
    customer_name: str | None = None
    group: str | None = Field(default=None, description="An OLA's internal group")
    service_ids: list[UUID]
    targets: list[AgreementTarget]
    availability_pct: float
    calendar: str = Field(description="The name of the business-hours calendar the targets count in")
    exclusions: list[str] = Field(default_factory=list)
    review_date: date
    status: Literal["agreed", "superseded", "retired"]
    change_number: str | None = Field(default=None, description="The approved change that authorised this move")
    actor: str
    occurred_at: datetime


class AgreementAgreed(AgreementEvent):
    routing_key: ClassVar[str] = "agreement.agreed.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = (
        "A version of a service level (or operational level) agreement was agreed under an approved change;"
        " its targets apply from now on."
    )

    supersedes: UUID | None = Field(default=None, description="The version it replaces, if any")


class AgreementSuperseded(AgreementEvent):
    routing_key: ClassVar[str] = "agreement.superseded.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "An agreed version was replaced by a newer agreed version of the same agreement."

    superseded_by: UUID


class AgreementRetired(AgreementEvent):
    routing_key: ClassVar[str] = "agreement.retired.v1"
    producer: ClassVar[str] = "config"
    description: ClassVar[str] = "An agreed version was retired under an approved change: its targets no longer apply."
