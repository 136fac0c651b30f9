"""HTTP body of the deployment gate's answer."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from services.change.domain.deployments import Environment
from services.change.domain.gate import GateAnswer
from services.change.schemas.templates import TemplateRead
from shared.http import ApiModel


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
