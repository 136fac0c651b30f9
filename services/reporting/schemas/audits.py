"""API bodies of internal audits (ISO/IEC 20000-1 4.5.4.2) and management reviews (4.5.4.3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field

from services.reporting.domain.audits import AuditProgramme, Finding, FindingKind, InternalAudit
from services.reporting.domain.management_reviews import ManagementReview
from services.reporting.domain.service_reviews import ReviewAction
from services.reporting.schemas.service_reviews import ActionBody, Person
from shared.http import ApiModel, Page

Text = Field(default="", max_length=20_000)


def _action(a: ReviewAction) -> ActionBody:
    return ActionBody(text=a.text, owner=a.owner, due=a.due, status=a.status)


def _of_body(a: ActionBody) -> ReviewAction:
    return ReviewAction(a.text, a.owner, a.due, a.status)


class ProgrammeCreate(ApiModel):
    title: str = Field(min_length=1, max_length=200, examples=["Internal audit programme 2027"])
    period_start: date
    period_end: date
    scope: str = Text
    criteria: str = Field(default="", max_length=20_000, description="What is audited against (clauses, policies)")
    owner: Person


class ProgrammeRead(ProgrammeCreate):
    id: UUID
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, programme: AuditProgramme) -> ProgrammeRead:
        return cls.from_record(programme)


ProgrammePage = Page[ProgrammeRead]


class AuditCreate(ApiModel):
    programme_id: UUID
    title: str = Field(min_length=1, max_length=200, examples=["Change management, Q1"])
    scope: str = Text
    lead_auditor: Person
    auditees: list[Person] = Field(default_factory=list, max_length=50)
    planned_on: date


class AuditActionBody(ApiModel):
    action: Literal["start", "report", "close", "cancel"]
    summary: str = Field(default="", max_length=20_000, description="Reporting: the audit report's summary")


class FindingBody(ApiModel):
    kind: Literal["major_nonconformity", "minor_nonconformity", "observation", "opportunity"]
    clause: str = Field(min_length=1, max_length=100, examples=["9.2"])
    text: str = Field(min_length=1, max_length=4000)
    corrective_action: ActionBody | None = Field(default=None, description="Required for a nonconformity")

    def finding(self) -> Finding:
        action = None if self.corrective_action is None else _of_body(self.corrective_action)
        return Finding(FindingKind(self.kind), self.clause, self.text, action)


class FindingRead(FindingBody):
    improvement_number: str | None = Field(description="The improvement register entry raised for it")


class AuditRead(AuditCreate):
    id: UUID
    number: str
    status: str
    allowed_actions: list[str]
    findings: list[FindingRead]
    summary: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, audit: InternalAudit) -> AuditRead:
        findings = [
            FindingRead(
                kind=f.kind.value,
                clause=f.clause,
                text=f.text,
                corrective_action=None if f.corrective_action is None else _action(f.corrective_action),
                improvement_number=f.improvement_number,
            )
            for f in audit.findings
        ]
        return cls.from_record(
            audit,
            auditees=list(audit.auditees),
            status=audit.status.value,
            allowed_actions=audit.allowed(),
            findings=findings,
        )


AuditPage = Page[AuditRead]


class ManagementReviewCreate(ApiModel):
    title: str = Field(min_length=1, max_length=200, examples=["Management review, H1 2027"])
    held_on: date
    chair: Person
    attendees: list[Person] = Field(min_length=1, max_length=50)
    report_run_ids: list[UUID] = Field(min_length=1, max_length=50, description="The stored report runs gone through")
    audit_ids: list[UUID] = Field(default_factory=list, max_length=50, description="The internal audits gone through")
    conclusions: str = Text
    decisions: list[Annotated[str, Field(min_length=1, max_length=4000)]] = Field(default_factory=list, max_length=50)
    actions: list[ActionBody] = Field(default_factory=list, max_length=50)

    def command_values(self) -> dict[str, Any]:
        return {
            **self.model_dump(include={"title", "held_on", "chair", "conclusions"}),
            "attendees": tuple(self.attendees),
            "report_run_ids": tuple(self.report_run_ids),
            "audit_ids": tuple(self.audit_ids),
            "decisions": tuple(self.decisions),
            "actions": tuple(_of_body(a) for a in self.actions),
        }


class RunInputRead(ApiModel):
    run_id: UUID
    report: str
    period_start: datetime
    period_end: datetime
    content_sha256: str | None
    totals: dict[str, Any] = Field(description="The run's totals, as the review saw them")


class ManagementReviewRead(ManagementReviewCreate):
    id: UUID
    inputs: list[RunInputRead]
    improvements_by_status: dict[str, int] = Field(description="The improvement register when the review was recorded")
    recorded_by: str
    recorded_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, review: ManagementReview) -> ManagementReviewRead:
        return cls.from_record(
            review,
            attendees=list(review.attendees),
            report_run_ids=[i.run_id for i in review.inputs],
            audit_ids=list(review.audit_ids),
            decisions=list(review.decisions),
            actions=[_action(a) for a in review.actions],
            inputs=[RunInputRead.from_record(i) for i in review.inputs],
        )


ManagementReviewPage = Page[ManagementReviewRead]
