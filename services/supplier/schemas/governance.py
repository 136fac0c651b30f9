"""API bodies of the process register (4.2) and of performance reviews."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import Field, model_validator

from services.supplier.domain.governance import OperatedProcess, Process, Review
from shared.http import ApiModel

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


# ---------------------------------------------------------------------------- process register


class ProcessCreate(ApiModel):
    process: Process
    scope: str = Field(min_length=1, max_length=5_000, description="Which part of the process they operate")
    contract_id: UUID | None = Field(default=None, description="The contract it is operated under")
    measurement: str = Field(min_length=1, max_length=5_000, description="How its performance is measured")
    kpis: list[str] = Field(default_factory=list, max_length=50)
    process_owner: str = Field(min_length=1, max_length=200, description="Accountable on our side")


class ProcessUpdate(ApiModel):
    process: Process | None = None
    scope: str | None = Field(default=None, min_length=1, max_length=5_000)
    contract_id: UUID | None = None
    measurement: str | None = Field(default=None, min_length=1, max_length=5_000)
    kpis: list[str] | None = Field(default=None, max_length=50)
    process_owner: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _required_stay_set(self) -> ProcessUpdate:
        for name in ("process", "scope", "measurement", "kpis", "process_owner"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ProcessRead(ApiModel):
    id: UUID
    supplier_id: UUID
    process: Process
    scope: str
    contract_id: UUID | None
    measurement: str
    kpis: list[str]
    process_owner: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, item: OperatedProcess) -> ProcessRead:
        return cls.from_record(item, kpis=list(item.kpis))


# ---------------------------------------------------------------------------- reviews


class ReviewActionBody(ApiModel):
    description: str = Field(min_length=1, max_length=2_000)
    owner: str = Field(min_length=1, max_length=200)
    due_on: date


class ReviewCreate(ApiModel):
    held_on: date
    period: str = Field(pattern=PERIOD_PATTERN, description="The month whose figures were reviewed (YYYY-MM)")
    contract_id: UUID | None = None
    participants: list[str] = Field(min_length=1, max_length=50)
    findings: str = Field(min_length=1, max_length=20_000)
    actions: list[ReviewActionBody] = Field(default_factory=list, max_length=100)


class AmendmentRef(ApiModel):
    contract_id: UUID
    contract_number: str
    amendment: int
    reason: str


class ReviewRead(ApiModel):
    id: UUID
    number: str
    supplier_id: UUID
    contract_id: UUID | None
    held_on: date
    period: str
    participants: list[str]
    figures: dict[str, Any] = Field(description="The scorecard of the period as it stood when the review was recorded")
    findings: str
    actions: list[ReviewActionBody]
    amendments: list[AmendmentRef] = Field(description="Contract amendments made as a result of this review")
    recorded_by: str
    created_at: datetime

    @classmethod
    def of(cls, r: Review, amendments: list[Any]) -> ReviewRead:
        return cls.from_record(
            r,
            participants=list(r.participants),
            figures=dict(r.figures),
            actions=[ReviewActionBody(description=a.description, owner=a.owner, due_on=a.due_on) for a in r.actions],
            amendments=[
                AmendmentRef(
                    contract_id=a.contract_id, contract_number=a.contract_number, amendment=a.number, reason=a.reason
                )
                for a in amendments
            ],
        )
