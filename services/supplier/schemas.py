"""HTTP bodies of the supplier API, split by direction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from services.supplier.domain import Contact, RiskRating, Supplier, SupplierCategory, SupplierRole, SupplierStatus
from services.supplier.domain.contracts import ChargingBasis, Contract, ContractStatus
from services.supplier.domain.governance import Dispute, DisputeStatus, OperatedProcess, Process, Review
from services.supplier.domain.performance import PriorityFigures, TimeFigures, Totals
from shared.http import ApiModel, Page

# Deliberately loose (one @, a dot in the domain, no spaces): a typo catcher, not RFC 5322.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


# ---------------------------------------------------------------------------- suppliers


class ContactBody(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    phone: str | None = Field(default=None, max_length=50)
    role: str | None = Field(default=None, max_length=100, description="Their role: account manager, service desk...")

    def to_domain(self) -> Contact:
        return Contact(self.name, self.email, self.phone, self.role)


class SupplierCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200, description="Unique, ignoring case and spacing")
    category: SupplierCategory
    status: SupplierStatus = SupplierStatus.ACTIVE
    risk_rating: RiskRating = RiskRating.MEDIUM
    supplier_manager: str | None = Field(
        default=None, min_length=1, max_length=200, description="Our named owner of the relationship"
    )
    contact_email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    contacts: list[ContactBody] = Field(default_factory=list, max_length=50)
    service_ids: list[UUID] = Field(default_factory=list, max_length=500, description="Services they supply (CIs)")
    ci_ids: list[UUID] = Field(default_factory=list, max_length=500, description="CIs they supply or support")
    lead_supplier_id: UUID | None = Field(default=None, description="Set for a sub-contractor: its lead supplier")


class SupplierUpdate(ApiModel):
    """Only the fields sent change; `lead_supplier_id: null` makes a sub-contractor a lead supplier."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    category: SupplierCategory | None = None
    status: SupplierStatus | None = None
    risk_rating: RiskRating | None = None
    supplier_manager: str | None = Field(default=None, min_length=1, max_length=200)
    contact_email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    contacts: list[ContactBody] | None = Field(default=None, max_length=50)
    service_ids: list[UUID] | None = Field(default=None, max_length=500)
    ci_ids: list[UUID] | None = Field(default=None, max_length=500)
    lead_supplier_id: UUID | None = None

    @model_validator(mode="after")
    def _required_stay_set(self) -> SupplierUpdate:
        for name in ("name", "category", "status", "risk_rating", "contacts", "service_ids", "ci_ids"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def values(self) -> dict[str, Any]:
        sent = {name: getattr(self, name) for name in self.model_fields_set}
        if "contacts" in sent:
            sent["contacts"] = [c.to_domain() for c in self.contacts or []]
        return sent


class SupplierRead(ApiModel):
    id: UUID
    number: str
    name: str
    category: SupplierCategory
    status: SupplierStatus
    risk_rating: RiskRating
    supplier_manager: str | None
    contact_email: str | None
    contacts: list[ContactBody]
    service_ids: list[UUID]
    ci_ids: list[UUID]
    role: SupplierRole
    lead_supplier_id: UUID | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, item: Supplier) -> SupplierRead:
        return cls(
            id=item.id,
            number=item.number,
            name=item.name,
            category=item.category,
            status=item.status,
            risk_rating=item.risk_rating,
            supplier_manager=item.supplier_manager,
            contact_email=item.contact_email,
            contacts=[ContactBody(name=c.name, email=c.email, phone=c.phone, role=c.role) for c in item.contacts],
            service_ids=list(item.service_ids),
            ci_ids=list(item.ci_ids),
            role=item.role,
            lead_supplier_id=item.lead_supplier_id,
            created_at=item.created_at,
            updated_at=item.updated_at,
            version=item.version,
        )


SupplierPage = Page[SupplierRead]


class HistoryEntry(ApiModel):
    version: int
    at: datetime
    actor: str
    action: str
    field: str
    old: Any
    new: Any
    reason: str
    amendment: int | None = None

    @classmethod
    def of(cls, row: Any) -> HistoryEntry:
        return cls(
            version=row.version,
            at=row.at,
            actor=row.actor,
            action=row.action,
            field=row.field,
            old=row.old,
            new=row.new,
            reason=row.reason,
            amendment=row.amendment,
        )


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
        return cls(
            id=item.id,
            supplier_id=item.supplier_id,
            process=item.process,
            scope=item.scope,
            contract_id=item.contract_id,
            measurement=item.measurement,
            kpis=list(item.kpis),
            process_owner=item.process_owner,
            created_at=item.created_at,
            updated_at=item.updated_at,
            version=item.version,
        )


# ---------------------------------------------------------------------------- contracts


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
        return cls(
            id=c.id,
            number=c.number,
            supplier_id=c.supplier_id,
            title=c.title,
            status=c.status,
            scope=c.scope,
            service_ids=list(c.service_ids),
            ci_ids=list(c.ci_ids),
            starts_on=c.starts_on,
            ends_on=c.ends_on,
            notice_period_days=c.notice_period_days,
            notice_deadline=c.notice_deadline,
            renewal_terms=c.renewal_terms,
            value=c.value,
            currency=c.currency,
            charging_basis=c.charging_basis,
            targets=[
                TargetBody(
                    priority=t.priority, response_minutes=t.response_minutes, resolution_minutes=t.resolution_minutes
                )
                for t in c.targets
            ],
            availability_pct=c.availability_pct,
            workload_limits=c.workload_limits,
            exceptions=c.exceptions,
            reporting_obligations=[
                ReportingObligationBody(report=o.report, frequency=o.frequency) for o in c.reporting_obligations
            ],
            exit_terms=c.exit_terms,
            document_refs=list(c.document_refs),
            owner=c.owner,
            term=c.term,
            amendments=c.amendments,
            activated_at=c.activated_at,
            allowed_actions=c.allowed_actions(),
            created_at=c.created_at,
            updated_at=c.updated_at,
            version=c.version,
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
        return cls(
            contract_id=row.contract_id,
            number=row.number,
            reason=row.reason,
            changes={k: list(v) for k, v in row.changes.items()},
            review_id=row.review_id,
            actor=row.actor,
            at=row.at,
        )


# ---------------------------------------------------------------------------- scorecard


class TimesRead(ApiModel):
    measured: int
    mean_s: float | None
    max_s: float | None
    breaches: int
    within_target_pct: float | None

    @classmethod
    def of(cls, t: TimeFigures) -> TimesRead:
        return cls(
            measured=t.measured,
            mean_s=t.mean_s,
            max_s=t.max_s,
            breaches=t.breaches,
            within_target_pct=t.within_target_pct,
        )


class PriorityRead(ApiModel):
    priority: int
    response_target_s: int | None
    resolution_target_s: int | None
    resolved: int
    response: TimesRead
    resolution: TimesRead

    @classmethod
    def of(cls, p: PriorityFigures) -> PriorityRead:
        return cls(
            priority=p.priority,
            response_target_s=p.response_target_s,
            resolution_target_s=p.resolution_target_s,
            resolved=p.resolved,
            response=TimesRead.of(p.response),
            resolution=TimesRead.of(p.resolution),
        )


class TotalsRead(ApiModel):
    incidents_opened: int
    incidents_resolved: int
    response_breaches: int
    resolution_breaches: int
    breaches: int
    mean_response_s: float | None
    mean_resolution_s: float | None
    changes_implemented: int
    changes_failed: int
    change_success_rate: float | None = Field(description="Percent of changes on covered CIs that succeeded")
    sla_breaches: int = Field(description="Customer SLA breaches (incident service) on tickets counted here")

    @classmethod
    def of(cls, t: Totals) -> TotalsRead:
        return cls(
            incidents_opened=t.incidents_opened,
            incidents_resolved=t.incidents_resolved,
            response_breaches=t.response_breaches,
            resolution_breaches=t.resolution_breaches,
            breaches=t.breaches,
            mean_response_s=t.mean_response_s,
            mean_resolution_s=t.mean_resolution_s,
            changes_implemented=t.changes_implemented,
            changes_failed=t.changes_failed,
            change_success_rate=t.change_success_rate,
            sla_breaches=t.sla_breaches,
        )


class ContractCardRead(ApiModel):
    contract_id: UUID
    number: str
    title: str
    status: ContractStatus
    availability_target_pct: float | None
    availability_actual_pct: float | None = Field(
        default=None, description="Not measured yet: no outage events are consumed"
    )
    targets: list[PriorityRead]
    totals: TotalsRead


class PeriodTotals(ApiModel):
    period: str
    totals: TotalsRead


class SubcontractorRead(ApiModel):
    supplier_id: UUID
    number: str
    name: str
    lead_supplier_id: UUID | None
    totals: TotalsRead


class ScorecardRead(ApiModel):
    supplier_id: UUID
    number: str
    name: str
    role: SupplierRole
    period: str
    contracts: list[ContractCardRead]
    totals: TotalsRead
    trend: list[PeriodTotals] = Field(description="The supplier's own totals in the periods before, oldest first")
    subcontractors: list[SubcontractorRead] = Field(description="Every supplier below this one, at any depth")
    rollup: TotalsRead = Field(description="This supplier's figures and all its sub-contractors' together")
    rollup_trend: list[PeriodTotals]


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
        return cls(
            id=r.id,
            number=r.number,
            supplier_id=r.supplier_id,
            contract_id=r.contract_id,
            held_on=r.held_on,
            period=r.period,
            participants=list(r.participants),
            figures=dict(r.figures),
            findings=r.findings,
            actions=[ReviewActionBody(description=a.description, owner=a.owner, due_on=a.due_on) for a in r.actions],
            amendments=[
                AmendmentRef(
                    contract_id=a.contract_id, contract_number=a.contract_number, amendment=a.number, reason=a.reason
                )
                for a in amendments
            ],
            recorded_by=r.recorded_by,
            created_at=r.created_at,
        )


# ---------------------------------------------------------------------------- disputes


class DisputeCreate(ApiModel):
    supplier_id: UUID
    contract_id: UUID | None = None
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    owner: str = Field(min_length=1, max_length=200, description="Who manages it to closure on our side")
    amount: Decimal | None = Field(default=None, ge=0, max_digits=16, decimal_places=2)
    currency: str | None = Field(default=None, pattern=CURRENCY_PATTERN)


class DisputeStep(ApiModel):
    note: str = Field(default="", max_length=5_000)
    resolution: str | None = Field(default=None, min_length=1, max_length=20_000, description="Required to resolve")


class DisputeRead(ApiModel):
    id: UUID
    number: str
    supplier_id: UUID
    contract_id: UUID | None
    title: str
    description: str
    owner: str
    amount: Decimal | None
    currency: str | None
    status: DisputeStatus
    resolution: str | None
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None
    allowed_actions: list[str]
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, d: Dispute) -> DisputeRead:
        return cls(
            id=d.id,
            number=d.number,
            supplier_id=d.supplier_id,
            contract_id=d.contract_id,
            title=d.title,
            description=d.description,
            owner=d.owner,
            amount=d.amount,
            currency=d.currency,
            status=d.status,
            resolution=d.resolution,
            opened_by=d.opened_by,
            opened_at=d.opened_at,
            closed_at=d.closed_at,
            allowed_actions=d.allowed_actions(),
            updated_at=d.updated_at,
            version=d.version,
        )


DisputePage = Page[DisputeRead]
