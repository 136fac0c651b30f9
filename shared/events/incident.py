"""Events published by the incident service."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.envelope import EventData


class IncidentCreated(EventData):
    routing_key: ClassVar[str] = "incident.created.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An incident was recorded (ISO/IEC 20000-1 8.1)."

    incident_id: UUID
    number: str = Field(examples=["INC0000001"])
    title: str
    status: Literal["new"] = "new"
    impact: int = Field(ge=1, le=3)
    urgency: int = Field(ge=1, le=3)
    priority: int = Field(ge=1, le=5)
    caller: str
    ci_id: UUID | None = None
    opened_at: datetime
    channel: str = "api"
    category: str | None = None
    subcategory: str | None = None
    service_id: UUID | None = None
    assignment_group: str | None = None
    supplier_id: UUID | None = None
    major: bool = False
    customer_id: UUID | None = Field(default=None, description="The customer it is for (config's registry)")


class IncidentEvent(EventData):
    """What every later incident event carries (the base of the per-action types)."""

    incident_id: UUID
    number: str
    status: str
    previous_status: str
    priority: int = Field(ge=1, le=5)
    actor: str
    occurred_at: datetime
    changes: dict[str, list[Any]] = Field(default_factory=dict, description="field -> [old, new]")
    reason: str = ""
    # Where the incident stands, so consumers (supplier performance, reporting) need no lookup.
    ci_id: UUID | None = None
    service_id: UUID | None = None
    category: str | None = None
    assignment_group: str | None = None
    supplier_id: UUID | None = None
    major: bool = False
    # Who to tell (notify's rules address the caller), and what the incident is called.
    caller: str | None = Field(default=None, description="Who reported it: a user name or an e-mail address")
    title: str | None = None


class IncidentAssigned(IncidentEvent):
    routing_key: ClassVar[str] = "incident.assigned.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An incident was assigned, or reassigned, to a group and maybe a person."

    assignment_group: str
    assignee: str | None = None


class IncidentStatusChanged(IncidentEvent):
    routing_key: ClassVar[str] = "incident.status_changed.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An incident's work started, was put on hold, resumed or cancelled."

    hold_reason: str | None = None


class SlaResult(BaseModel):
    """One SLA target of a ticket as it stood when the ticket was resolved or fulfilled."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    target: Literal["response", "resolution"]
    policy_id: UUID | None = None
    target_business_s: int = Field(ge=0, description="The target, in business seconds")
    elapsed_business_s: int = Field(ge=0, description="Business seconds used (pauses excluded)")
    due_at: datetime | None = None
    met: bool


class IncidentResolved(IncidentEvent):
    routing_key: ClassVar[str] = "incident.resolved.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An incident was resolved; it closes on confirmation or after a while."

    resolution_code: str
    resolved_at: datetime
    opened_at: datetime
    first_response_at: datetime | None = None
    sla: list[SlaResult] = Field(
        default_factory=list, description="Each SLA target of the ticket and whether it was met"
    )


class IncidentClosed(IncidentEvent):
    routing_key: ClassVar[str] = "incident.closed.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An incident was closed."


class IncidentReopened(IncidentEvent):
    routing_key: ClassVar[str] = "incident.reopened.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A resolved incident was reopened within the reopen window."


class IncidentPriorityChanged(IncidentEvent):
    routing_key: ClassVar[str] = "incident.priority_changed.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = (
        "An incident's priority changed: impact or urgency changed, or an agent overrode the matrix (with a reason)."
    )

    previous_priority: int = Field(ge=1, le=5)
    override: bool = False


class IncidentEscalated(IncidentEvent):
    routing_key: ClassVar[str] = "incident.escalated.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = (
        "An incident was escalated: functionally (to another group) or hierarchically (people notified),"
        " by hand or because an SLA target was at risk or breached."
    )

    kind: Literal["functional", "hierarchical"]
    trigger: Literal["manual", "sla_warning", "sla_breached"] = "manual"
    from_group: str | None = None
    to_group: str | None = None
    notified: list[str] = Field(default_factory=list)


class IncidentMajorDeclared(IncidentEvent):
    routing_key: ClassVar[str] = "incident.major_declared.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An incident was declared a major incident, with a named manager."

    manager: str
    declared_at: datetime


class IncidentLinkedToProblem(EventData):
    routing_key: ClassVar[str] = "incident.linked_to_problem.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = (
        "An incident was linked to a problem: found recurring by problem analysis, matched to a known error"
        " (its workaround attached), linked by hand, or linked to the investigation the incident service opened for"
        " an unplanned outage (reason outage)."
    )

    incident_id: UUID
    incident_number: str
    problem_id: UUID
    problem_number: str = Field(examples=["PRB0000001"])
    reason: Literal["recurrence", "known_error", "manual", "outage"]
    known_error: bool = False
    workaround: str | None = None
    occurred_at: datetime


class IncidentLinkedToChange(EventData):
    routing_key: ClassVar[str] = "incident.linked_to_change.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = (
        "An incident was linked to a change as its probable cause (on the same CI shortly after the change"
        " was implemented or failed), or by hand."
    )

    incident_id: UUID
    incident_number: str
    change_id: UUID
    change_number: str
    ci_id: UUID | None = None
    service_id: UUID | None = None
    reason: Literal["probable_cause", "manual"]
    change_implemented_at: datetime | None = None
    occurred_at: datetime


# Service requests (ISO/IEC 20000-1 8.1)


class RequestEvent(EventData):
    """What every service request event carries."""

    request_id: UUID
    number: str = Field(examples=["REQ0000001"])
    status: str
    previous_status: str | None = None
    catalogue_item: str
    requester: str
    service_id: UUID | None = None
    priority: int = Field(ge=1, le=5)
    assignment_group: str | None = None
    actor: str
    occurred_at: datetime
    submitted_at: datetime
    reason: str = ""


class RequestSubmitted(RequestEvent):
    routing_key: ClassVar[str] = "request.submitted.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A service request was submitted from a catalogue item."

    needs_approval: bool = False


class RequestApproved(RequestEvent):
    routing_key: ClassVar[str] = "request.approved.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A service request was approved."

    approver: str


class RequestRejected(RequestEvent):
    routing_key: ClassVar[str] = "request.rejected.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A service request was rejected by its approver."

    approver: str


class RequestFulfilmentStarted(RequestEvent):
    routing_key: ClassVar[str] = "request.fulfilment_started.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "Fulfilment of a service request started."


class RequestFulfilled(RequestEvent):
    routing_key: ClassVar[str] = "request.fulfilled.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A service request was fulfilled."

    fulfilled_at: datetime
    sla: list[SlaResult] = Field(default_factory=list)


class RequestClosed(RequestEvent):
    routing_key: ClassVar[str] = "request.closed.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A service request was closed."


class RequestCancelled(RequestEvent):
    routing_key: ClassVar[str] = "request.cancelled.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A service request was cancelled."


# SLA clocks (ISO/IEC 20000-1 6.1 targets applied to tickets)


class SlaEvent(EventData):
    """An SLA target of one ticket at risk or breached; raised once per ticket and target."""

    ticket_kind: Literal["incident", "request"]
    ticket_id: UUID
    ticket_number: str
    target: Literal["response", "resolution"]
    policy_id: UUID
    service_id: UUID | None = None
    priority: int = Field(ge=1, le=5)
    assignment_group: str | None = None
    supplier_id: UUID | None = None
    ci_id: UUID | None = None
    target_business_s: int = Field(ge=0)
    elapsed_business_s: int = Field(ge=0)
    due_at: datetime
    occurred_at: datetime


class SlaWarning(SlaEvent):
    routing_key: ClassVar[str] = "sla.warning.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An SLA target is at risk: the configured share of its time is used."

    share_used: float = Field(ge=0)


class SlaBreached(SlaEvent):
    routing_key: ClassVar[str] = "sla.breached.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "An SLA target was breached."


# Problems and known errors (ISO/IEC 20000-1 8.2)


class ProblemEvent(EventData):
    """What every problem event carries."""

    problem_id: UUID
    number: str = Field(examples=["PRB0000001"])
    title: str
    status: str
    ci_id: UUID | None = None
    service_id: UUID | None = None
    category: str | None = None
    incident_ids: list[UUID] = Field(default_factory=list, description="Every incident linked so far")
    actor: str
    occurred_at: datetime


class ProblemCreated(ProblemEvent):
    routing_key: ClassVar[str] = "problem.created.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = (
        "A problem was opened, by hand, by problem analysis finding recurring incidents, or by the incident"
        " service as the investigation of an unplanned outage nobody investigated (origin outage)."
    )

    origin: Literal["manual", "recurrence", "outage"]


class ProblemUpdated(ProblemEvent):
    routing_key: ClassVar[str] = "problem.updated.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A problem changed: investigation, root cause, links to incidents or to a change."

    changes: dict[str, list[Any]] = Field(default_factory=dict, description="field -> [old, new]")
    added_incident_ids: list[UUID] = Field(default_factory=list)
    change_id: UUID | None = None


class ProblemKnownErrorPublished(ProblemEvent):
    routing_key: ClassVar[str] = "problem.known_error_published.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = (
        "A problem became a known error: its root cause and workaround are in the known error database."
    )

    known_error_id: UUID
    root_cause: str
    workaround: str


class ProblemResolved(ProblemEvent):
    routing_key: ClassVar[str] = "problem.resolved.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A problem was resolved, usually by a change."

    change_id: UUID | None = None
    resolution: str = ""


class ProblemClosed(ProblemEvent):
    routing_key: ClassVar[str] = "problem.closed.v1"
    producer: ClassVar[str] = "incident"
    description: ClassVar[str] = "A problem was closed."
