"""HTTP bodies of service complaints (ISO/IEC 20000-1 7.1): the complaint, its edits and actions,
its links and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field, model_validator

from services.incident.domain.complaints import (
    Complaint,
    ComplaintChannel,
    ComplaintLink,
    ComplaintLinkKind,
    ComplaintStatus,
)
from shared.history import FieldChangeEntry
from shared.http import ApiModel, Page, UpdateModel


class ComplaintBody(ApiModel):
    """A complaint request body (text no database can store, U+0000 or a lone surrogate, is refused
    for every route by shared.http before the body reaches it)."""


Person = Field(default=None, min_length=1, max_length=200)
Category = Field(default=None, min_length=1, max_length=100, examples=["conduct", "timeliness"])
Reason = Field(min_length=1, max_length=2000)


class ComplaintCreate(ComplaintBody):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    complainant: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Who complains; defaults to you (a requester may name only themselves)",
    )
    received_via: ComplaintChannel = ComplaintChannel.PORTAL
    category: str | None = Category
    service_id: UUID | None = None
    relationship_manager: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The customer's relationship manager (escalations go to them)",
    )


class ComplaintLinkRead(ApiModel):
    kind: ComplaintLinkKind
    id: UUID
    number: str | None = Field(description="None for a supplier (not checked: no supplier register here yet)")

    @classmethod
    def of(cls, link: ComplaintLink) -> ComplaintLinkRead:
        return cls(kind=link.kind, id=link.id, number=link.number)


class ComplaintRead(ApiModel):
    id: UUID
    number: str
    title: str
    description: str
    complainant: str
    received_via: ComplaintChannel
    status: ComplaintStatus
    category: str | None
    service_id: UUID | None
    relationship_manager: str | None
    owner: str | None
    investigation_notes: str
    root_cause: str
    actions_taken: str
    resolution: str
    escalation_level: int
    escalated_to: str | None
    escalated_at: datetime | None
    recorded_by: str
    received_at: datetime
    updated_at: datetime
    acknowledge_due_at: datetime
    acknowledged_at: datetime | None
    acknowledge_breached: bool = Field(description="Passed its acknowledge target unacknowledged, or acknowledged late")
    respond_due_at: datetime
    responded_at: datetime | None
    respond_breached: bool = Field(description="Passed its respond target without a response, or responded late")
    closed_at: datetime | None
    closure_reason: str
    closure_confirmed_by_customer: bool
    links: list[ComplaintLinkRead]
    version: int
    allowed_actions: list[str]

    @classmethod
    def of(cls, complaint: Complaint, now: datetime) -> ComplaintRead:
        """The complaint as it stands at `now` (its targets' breaches are computed on read)."""
        return cls.from_record(
            complaint,
            acknowledge_breached=complaint.acknowledge_breached(now),
            respond_breached=complaint.respond_breached(now),
            links=[ComplaintLinkRead.of(link) for link in complaint.links],
            allowed_actions=complaint.allowed_actions(),
        )


ComplaintPage = Page[ComplaintRead]


class ComplaintUpdate(UpdateModel, ComplaintBody):
    """The fields to change; the ones left out stay as they are."""

    required_on_record = ("title", "description", "investigation_notes", "root_cause")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    category: str | None = Category
    service_id: UUID | None = None
    relationship_manager: str | None = Person
    owner: str | None = Person
    investigation_notes: str | None = Field(default=None, max_length=20_000)
    root_cause: str | None = Field(default=None, max_length=20_000)
    reason: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _something_to_change(self) -> ComplaintUpdate:
        if not (self.model_fields_set - {"reason"}):
            raise ValueError("name at least one field to change")
        return self

    def changes(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.model_fields_set if k != "reason"}


class ComplaintAcknowledge(ComplaintBody):
    owner: str | None = Field(default=None, min_length=1, max_length=200, description="Defaults to you")


class ComplaintInvestigate(ComplaintBody):
    notes: str = Field(default="", max_length=20_000)


class ComplaintTakeAction(ComplaintBody):
    actions_taken: str = Field(min_length=1, max_length=20_000)


class ComplaintResolve(ComplaintBody):
    resolution: str = Field(min_length=1, max_length=20_000, description="What the complainant is told")


class ComplaintConfirm(ComplaintBody):
    comment: str = Field(default="", max_length=2000, description="What the complainant said, if anything")


class ComplaintReason(ComplaintBody):
    reason: str = Reason


class ComplaintEscalate(ComplaintBody):
    reason: str = Reason
    relationship_manager: str | None = Field(
        default=None, min_length=1, max_length=200, description="Defaults to the one on the complaint"
    )


class ComplaintLinks(ComplaintBody):
    incident_ids: list[UUID] = Field(default_factory=list, max_length=100)
    request_ids: list[UUID] = Field(default_factory=list, max_length=100)
    change_ids: list[UUID] = Field(default_factory=list, max_length=100, description="Changes the service has learnt")
    supplier_ids: list[UUID] = Field(default_factory=list, max_length=100, description="Recorded unchecked")
    reason: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _something_to_link(self) -> ComplaintLinks:
        if not (self.incident_ids or self.request_ids or self.change_ids or self.supplier_ids):
            raise ValueError("name at least one record to link")
        return self


class ComplaintHistoryEntry(FieldChangeEntry):
    pass
