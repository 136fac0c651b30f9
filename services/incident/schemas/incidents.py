"""HTTP bodies of the incident API, split by direction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from services.incident.domain.incident_lifecycle import (
    Channel,
    ClosedBy,
    EscalationKind,
    HoldReason,
    IncidentStatus,
    NoteVisibility,
    PostIncidentReview,
)
from services.incident.domain.incidents import Incident
from services.incident.domain.priority import Impact, Urgency
from services.incident.domain.timeline import CUSTOMER_VISIBLE_FIELDS, Note
from shared.history import FieldChangeEntry
from shared.http import ApiModel, Page, UpdateModel

Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class IncidentCreate(ApiModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    caller: str = Field(min_length=1, max_length=200, description="Who reported it (user id or e-mail)")
    channel: Channel = Channel.API
    impact: Impact | None = Field(
        default=None,
        description="1 high, 2 medium, 3 low; without it, from the CI's criticality (1 critical -> 1, 2 high and"
        " 3 medium -> 2, 4 low -> 3); required when there is no ci_id",
    )
    urgency: Urgency = Field(description="1 high, 2 medium, 3 low")
    ci_id: UUID | None = Field(
        default=None, description="The configuration item affected; it must be known to the CMDB and not retired"
    )
    category: Category | None = Field(default=None, examples=["network"])
    subcategory: Category | None = Field(default=None, examples=["vpn"])
    service_id: UUID | None = Field(default=None, description="The service affected; by default the CI's service")
    customer_id: UUID | None = Field(
        default=None,
        description="The customer it is for (config's customer registry): the targets of their agreed SLA for the"
        " service apply",
    )


class IncidentRead(ApiModel):
    id: UUID
    number: str
    title: str
    description: str
    caller: str
    channel: Channel
    category: str | None
    subcategory: str | None
    service_id: UUID | None
    ci_id: UUID | None
    impact: Impact
    urgency: Urgency
    priority: int = Field(description="1 critical .. 5 planning, from the impact x urgency matrix unless overridden")
    priority_override_reason: str | None = Field(description="Why an agent set the priority against the matrix")
    status: IncidentStatus
    opened_at: datetime
    updated_at: datetime
    version: int
    assignment_group: str | None
    assignee: str | None
    supplier_id: UUID | None = Field(description="The supplier the incident is assigned to, if any")
    hold_reason: HoldReason | None
    major: bool
    major_manager: str | None
    major_declared_at: datetime | None
    resolution_code: str | None
    resolution_notes: str
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    closed_by: ClosedBy | None
    allowed_actions: list[str]
    problem_id: UUID | None = Field(default=None, description="The problem it is linked to (8.2)")
    problem_number: str | None = None
    known_error_id: UUID | None = Field(default=None, description="The known error whose workaround it was offered")
    workaround: str | None = Field(default=None, description="The known error's workaround, attached when it matched")
    caused_by_change_id: UUID | None = Field(default=None, description="The change that probably caused it")
    caused_by_change_number: str | None = None
    customer_id: UUID | None = Field(default=None, description="The customer it is for")

    @classmethod
    def of(cls, item: Incident) -> IncidentRead:
        return cls.from_record(item, allowed_actions=item.allowed_actions())


class IncidentPage(Page[IncidentRead]):
    total_exact: bool = Field(
        default=True,
        description="False when more incidents match than the service counts (INCIDENT_LIST_COUNT_LIMIT):"
        " `total` is then that limit, a lower bound",
    )


class IncidentUpdate(UpdateModel):
    """PATCH: only the fields sent change; `null` clears category or subcategory."""

    required_on_record = ("title", "description", "impact", "urgency")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    category: Category | None = None
    subcategory: Category | None = None
    impact: Impact | None = Field(default=None, description="A new impact recomputes the priority")
    urgency: Urgency | None = Field(default=None, description="A new urgency recomputes the priority")
    reason: str = Field(default="", max_length=2000, description="Why (kept in the history)")

    @model_validator(mode="after")
    def _something(self) -> IncidentUpdate:
        if not self.model_fields_set - {"reason"}:
            raise ValueError("send at least one of: title, description, category, subcategory, impact, urgency")
        return self

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set - {"reason"}}


class Assignment(ApiModel):
    assignment_group: str = Field(min_length=1, max_length=100)
    assignee: str | None = Field(default=None, min_length=1, max_length=200)
    supplier_id: UUID | None = Field(default=None, description="When the group is a supplier's")
    reason: str = Field(default="", max_length=2000, description="Why, when it is a reassignment")


class Hold(ApiModel):
    reason: HoldReason
    note: str = Field(default="", max_length=2000)


class Resolution(ApiModel):
    resolution_code: str = Field(min_length=1, max_length=50, examples=["fixed", "workaround", "no_fault_found"])
    resolution_notes: str = Field(default="", max_length=20_000)


class Reason(ApiModel):
    reason: str = Field(min_length=1, max_length=2000)


class PriorityOverride(ApiModel):
    priority: int = Field(ge=1, le=5, description="1 critical .. 5 planning")
    reason: str = Field(min_length=1, max_length=2000, description="Why the matrix's priority is not right here")


Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Escalation(ApiModel):
    kind: EscalationKind = Field(description="functional: to another group (to_group); hierarchical: notify people")
    to_group: str | None = Field(default=None, min_length=1, max_length=100, description="Required for functional")
    notify: list[Person] = Field(default_factory=list, max_length=50, description="Required for hierarchical")
    supplier_id: UUID | None = Field(default=None, description="When to_group is a supplier's")
    reason: str = Field(default="", max_length=2000)


class MajorDeclaration(ApiModel):
    manager: str = Field(min_length=1, max_length=200, description="The individual responsible for the major incident")
    reason: str = Field(default="", max_length=2000, description="Why it is major")


class NoteCreate(ApiModel):
    text: str = Field(min_length=1, max_length=20_000)
    visibility: NoteVisibility = Field(description="internal: a work note for agents; customer: the caller sees it")


class MajorUpdateCreate(ApiModel):
    text: str = Field(min_length=1, max_length=20_000)
    visibility: NoteVisibility = Field(default=NoteVisibility.CUSTOMER, description="Stakeholders see it by default")


class ReviewWrite(ApiModel):
    summary: str = Field(min_length=1, max_length=20_000, description="What happened and its impact")
    root_cause: str = Field(min_length=1, max_length=20_000)
    lessons: str = Field(min_length=1, max_length=20_000, description="What was learnt")
    actions: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]] = Field(
        min_length=1, max_length=100, description="Improvement actions (to problem management, the change process...)"
    )


class ReviewRead(ApiModel):
    summary: str
    root_cause: str
    lessons: str
    actions: list[str]
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, review: PostIncidentReview) -> ReviewRead:
        return cls.from_record(review, actions=list(review.actions))


class HistoryEntry(FieldChangeEntry):
    pass


class NoteRead(ApiModel):
    kind: str
    visibility: NoteVisibility
    text: str
    author: str
    at: datetime

    @classmethod
    def of(cls, note: Note) -> NoteRead:
        return cls.from_record(note, kind=note.kind.value)


class TimelineEntry(ApiModel):
    """One line of the timeline: a note (work note, comment, major update) or a field change."""

    at: datetime
    entry: Literal["note", "change"]
    kind: str = Field(description="work_note, comment or major_update for a note; the action for a change")
    visibility: NoteVisibility
    actor: str
    text: str | None = None
    field: str | None = None
    old: Any = None
    new: Any = None
    reason: str | None = None


def history_entries(history: Iterable[Any], *, customer_only: bool) -> list[HistoryEntry]:
    """The field changes; for the caller (`customer_only`) only those they may see, without the
    agents' reasons."""
    return [
        HistoryEntry.model_validate(row, from_attributes=True).model_copy(
            update={"reason": ""} if customer_only else {}
        )
        for row in history
        if not customer_only or row.field in CUSTOMER_VISIBLE_FIELDS
    ]


def timeline_entries(history: Iterable[Any], notes: Iterable[Note], *, customer_only: bool) -> list[TimelineEntry]:
    """Notes and field changes, oldest first (history and notes each keep their order). For the
    caller (`customer_only`): the changes they may see, without the agents' reasons."""
    entries: list[tuple[Any, int, TimelineEntry]] = []
    for row in history:
        visible = row.field in CUSTOMER_VISIBLE_FIELDS
        if customer_only and not visible:
            continue
        entry = TimelineEntry(
            at=row.at,
            entry="change",
            kind=row.action,
            visibility=NoteVisibility.CUSTOMER if visible else NoteVisibility.INTERNAL,
            actor=row.actor,
            field=row.field,
            old=row.old,
            new=row.new,
            reason=None if customer_only else row.reason,
        )
        entries.append((row.at, 0, entry))
    for note in notes:
        entry = TimelineEntry(
            at=note.at,
            entry="note",
            kind=note.kind.value,
            visibility=note.visibility,
            actor=note.author,
            text=note.text,
        )
        entries.append((note.at, 1, entry))
    entries.sort(key=lambda e: (e[0], e[1]))  # stable: history and notes each keep their order
    return [e[2] for e in entries]
