"""HTTP bodies of the design and transition record (clause 5) and its go-live acceptance."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from services.change.domain.design import DesignRecord
from shared.http import ApiModel


class ServiceLevelTargetBody(ApiModel):
    metric: str = Field(min_length=1, max_length=200, examples=["availability"])
    target: str = Field(min_length=1, max_length=200, examples=[">= 99.9 % per month"])


class DesignWrite(ApiModel):
    """Clause 5: what the new or changed service must do and how it will be accepted."""

    requirements: str = Field(default="", max_length=50_000)
    acceptance_criteria: list[str] = Field(default_factory=list, max_length=100)
    service_level_targets: list[ServiceLevelTargetBody] = Field(default_factory=list, max_length=100)
    capacity: str = Field(default="", max_length=20_000, description="The capacity the service needs and has")


class GoLiveRead(ApiModel):
    accepted: bool
    by: str
    at: datetime
    comment: str


class DesignRead(DesignWrite):
    updated_by: str
    updated_at: datetime | None
    missing: list[str] = Field(description="The parts still empty; approval waits for none")
    go_live: GoLiveRead | None

    @classmethod
    def of(cls, record: DesignRecord) -> DesignRead:
        go_live = record.go_live
        return cls.from_record(
            record,
            acceptance_criteria=list(record.acceptance_criteria),
            service_level_targets=[
                ServiceLevelTargetBody(metric=t.metric, target=t.target) for t in record.service_level_targets
            ],
            missing=record.missing(),
            go_live=GoLiveRead(accepted=go_live.accepted, by=go_live.by, at=go_live.at, comment=go_live.comment)
            if go_live
            else None,
        )


class GoLive(ApiModel):
    accepted: bool = Field(description="Whether the service met its acceptance criteria and goes (or stays) live")
    comment: str = Field(default="", max_length=20_000, description="Required when not accepted")
