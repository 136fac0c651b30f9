"""API bodies of contracts: terms, create, amend, renew, read, page and amendments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from services.supplier.domain.contracts import Contract, ContractStatus
from services.supplier.domain.terms import ChargingBasis
from shared.http import ApiModel, Page

CURRENCY_PATTERN = r"^[A-Z]{3}$"


class TargetBody(ApiModel):
    priority: int = Field(ge=1, le=5)
    response_minutes: int | None = Field(default=None, ge=1, le=525_600)
    resolution_minutes: int | None = Field(default=None, ge=1, le=525_600)


class ReportingObligationBody(ApiModel):
    report: str = Field(min_length=1, max_length=200)
    frequency: str = Field(min_length=1, max_length=50, examples=["monthly"])


NULLABLE_TERMS = frozenset({"value", "currency", "availability_pct"})
"""Terms that may be unset; the others cannot be null."""


class ContractTerms(ApiModel):
    """The terms of a contract; every field optional (a PATCH of a draft, an amendment)."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    scope: str | None = Field(default=None, max_length=20_000)
    service_ids: list[UUID] | None = Field(default=None, max_length=500)
    ci_ids: list[UUID] | None = Field(default=None, max_length=500)
    starts_on: AwareDatetime | None = None
    ends_on: AwareDatetime | None = None
    notice_period_days: int | None = Field(default=None, ge=0, le=3650)
    renewal_terms: str | None = Field(default=None, max_length=20_000)
    value: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)
    currency: str | None = Field(default=None, pattern=CURRENCY_PATTERN)
    charging_basis: ChargingBasis | None = None
    targets: list[TargetBody] | None = Field(default=None, max_length=5)
    availability_pct: float | None = Field(default=None, gt=0, le=100)
    workload_limits: str | None = Field(default=None, max_length=20_000)
    exceptions: str | None = Field(default=None, max_length=20_000)
    reporting_obligations: list[ReportingObligationBody] | None = Field(default=None, max_length=50)
    exit_terms: str | None = Field(default=None, max_length=20_000)
    document_refs: list[str] | None = Field(default=None, max_length=50)
    owner: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _required_stay_set(self) -> ContractTerms:
        for name in self.model_fields_set - NULLABLE_TERMS:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def values(self) -> dict[str, Any]:
        sent = self.model_dump(include=self.model_fields_set)
        for name in ("starts_on", "ends_on", "value"):
            if name in sent:
                sent[name] = getattr(self, name)
        return sent


class ContractCreate(ContractTerms):
    supplier_id: UUID
    title: str = Field(min_length=1, max_length=200)
    starts_on: AwareDatetime
    ends_on: AwareDatetime
    owner: str = Field(min_length=1, max_length=200, description="Accountable for the contract on our side")

    def values(self) -> dict[str, Any]:
        sent = super().values()
        sent.pop("supplier_id", None)
        for name in ("title", "starts_on", "ends_on", "owner"):
            sent[name] = getattr(self, name)
        return sent


class Amend(ApiModel):
    changes: ContractTerms
    reason: str = Field(min_length=1, max_length=5_000)
    review_id: UUID | None = Field(default=None, description="The performance review this amendment results from")


class Renewal(ApiModel):
    ends_on: AwareDatetime
    reason: str = Field(default="", max_length=5_000)


class Reason(ApiModel):
    reason: str = Field(min_length=1, max_length=5_000)


class ContractRead(ApiModel):
    id: UUID
    number: str
    supplier_id: UUID
    title: str
    status: ContractStatus
    scope: str
    service_ids: list[UUID]
    ci_ids: list[UUID]
    starts_on: datetime
    ends_on: datetime
    notice_period_days: int
    notice_deadline: datetime
    renewal_terms: str
    value: Decimal | None
    currency: str | None
    charging_basis: ChargingBasis
    targets: list[TargetBody]
    availability_pct: float | None
    workload_limits: str
    exceptions: str
    reporting_obligations: list[ReportingObligationBody]
    exit_terms: str
    document_refs: list[str]
    owner: str
    term: int
    amendments: int
    activated_at: datetime | None
    allowed_actions: list[str]
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, c: Contract) -> ContractRead:
        return cls.from_record(
            c,
            service_ids=list(c.service_ids),
            ci_ids=list(c.ci_ids),
            targets=[
                TargetBody(
                    priority=t.priority, response_minutes=t.response_minutes, resolution_minutes=t.resolution_minutes
                )
                for t in c.targets
            ],
            reporting_obligations=[
                ReportingObligationBody(report=o.report, frequency=o.frequency) for o in c.reporting_obligations
            ],
            document_refs=list(c.document_refs),
            allowed_actions=c.allowed_actions(),
        )


ContractPage = Page[ContractRead]


class AmendmentRead(ApiModel):
    contract_id: UUID
    number: int
    reason: str
    changes: dict[str, list[Any]]
    review_id: UUID | None
    actor: str
    at: datetime

    @classmethod
    def of(cls, row: Any) -> AmendmentRead:
        return cls.from_record(row, changes={k: list(v) for k, v in row.changes.items()})
