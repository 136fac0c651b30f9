"""What the incident service publishes: the domain events of incidents, problems, service requests,
complaints and surveys turned into the published contracts (`shared.events.incident`,
`shared.events.complaint`, `shared.events.survey`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from services.incident.domain.complaints import (
    Complaint,
    ComplaintAction,
    ComplaintChanged,
    ComplaintLink,
    ComplaintReceived,
)
from services.incident.domain.incident_lifecycle import Action, IncidentChanged, IncidentOpened
from services.incident.domain.incidents import Incident
from services.incident.domain.problems import Problem, ProblemAction, ProblemChanged, ProblemOpened
from services.incident.domain.requests import RequestAction, RequestChanged, RequestSubmitted, ServiceRequest
from services.incident.domain.surveys import Survey, SurveyAnswered, SurveyIssued
from shared.events import EventData
from shared.events import complaint as complaint_contracts
from shared.events import incident as contracts
from shared.events import survey as survey_contracts

# ---------------------------------------------------------------------------- incidents


def incident_contract(
    event: IncidentOpened | IncidentChanged, incident: Incident, *, sla: Sequence[contracts.SlaResult] = ()
) -> EventData | None:
    """The published event for a domain event; None for an edit that consumers have no event for
    (a title or category correction: it is in the history). `sla`: the ticket's SLA targets as
    they stand after the action (carried by `resolved`)."""
    if isinstance(event, IncidentOpened):
        return contracts.IncidentCreated.from_record(
            incident,
            incident_id=event.incident_id,
            impact=int(incident.impact),
            urgency=int(incident.urgency),
            channel=incident.channel.value,
            status="new",
        )
    common: dict[str, Any] = {
        "incident_id": incident.id,
        "number": incident.number,
        "status": event.status.value,
        "previous_status": event.previous_status.value,
        "priority": incident.priority,
        "actor": event.actor,
        "occurred_at": incident.updated_at,
        "changes": {k: list(v) for k, v in event.changes.items()},
        "reason": event.reason,
        "ci_id": incident.ci_id,
        "service_id": incident.service_id,
        "category": incident.category,
        "assignment_group": incident.assignment_group,
        "supplier_id": incident.supplier_id,
        "major": incident.major,
        "caller": incident.caller,
        "title": incident.title,
    }
    details = event.details
    if event.action is Action.ASSIGN:
        return contracts.IncidentAssigned(
            **{**common, "assignment_group": incident.assignment_group or ""}, assignee=incident.assignee
        )
    if event.action is Action.RESOLVE:
        assert incident.resolved_at is not None
        return contracts.IncidentResolved(
            **common,
            resolution_code=incident.resolution_code or "",
            resolved_at=incident.resolved_at,
            opened_at=incident.opened_at,
            first_response_at=incident.first_response_at,
            sla=list(sla),
        )
    if event.action is Action.CLOSE:
        return contracts.IncidentClosed(**common)
    if event.action is Action.REOPEN:
        return contracts.IncidentReopened(**common)
    if event.action in (Action.UPDATE, Action.OVERRIDE_PRIORITY):
        if "priority" not in event.changes:
            return None
        return contracts.IncidentPriorityChanged(
            **common,
            previous_priority=int(details.get("previous_priority", event.changes["priority"][0])),
            override=bool(details.get("override", False)),
        )
    if event.action is Action.ESCALATE:
        return contracts.IncidentEscalated(
            **common,
            kind=details["kind"],
            trigger=details["trigger"],
            from_group=details.get("from_group"),
            to_group=details.get("to_group"),
            notified=list(details.get("notified", [])),
        )
    if event.action is Action.DECLARE_MAJOR:
        assert incident.major_manager is not None and incident.major_declared_at is not None
        return contracts.IncidentMajorDeclared(
            **common, manager=incident.major_manager, declared_at=incident.major_declared_at
        )
    if event.action is Action.REVIEW:
        return None  # no contract yet; the review is in the history and at GET .../review
    hold = incident.hold_reason.value if incident.hold_reason else None
    return contracts.IncidentStatusChanged(**common, hold_reason=hold)


# ---------------------------------------------------------------------------- problems


def problem_contract(event: ProblemOpened | ProblemChanged, problem: Problem) -> EventData:
    common: dict[str, Any] = {
        "problem_id": problem.id,
        "number": problem.number,
        "title": problem.title,
        "status": problem.status.value,
        "ci_id": problem.ci_id,
        "service_id": problem.service_id,
        "category": problem.category,
        "incident_ids": list(problem.incident_ids),
        "actor": event.actor,
        "occurred_at": problem.updated_at,
    }
    if isinstance(event, ProblemOpened):
        return contracts.ProblemCreated(**common, origin=problem.origin.value)
    common["status"] = event.status.value
    if event.action is ProblemAction.PUBLISH_KNOWN_ERROR:
        assert problem.known_error_id is not None
        return contracts.ProblemKnownErrorPublished(
            **common,
            known_error_id=problem.known_error_id,
            root_cause=problem.root_cause,
            workaround=problem.workaround,
        )
    if event.action is ProblemAction.RESOLVE:
        return contracts.ProblemResolved(**common, change_id=problem.change_id, resolution=problem.resolution)
    if event.action is ProblemAction.CLOSE:
        return contracts.ProblemClosed(**common)
    return contracts.ProblemUpdated(
        **common,
        changes={k: list(v) for k, v in event.changes.items()},
        added_incident_ids=list(event.added_incident_ids),
        change_id=problem.change_id,
    )


def linked_to_problem(
    *,
    incident_id: UUID,
    incident_number: str,
    problem: Problem,
    reason: Literal["recurrence", "known_error", "manual", "outage"],
    workaround: str | None,
    now: datetime,
) -> contracts.IncidentLinkedToProblem:
    return contracts.IncidentLinkedToProblem(
        incident_id=incident_id,
        incident_number=incident_number,
        problem_id=problem.id,
        problem_number=problem.number,
        reason=reason,
        known_error=reason == "known_error",
        workaround=workaround,
        occurred_at=now,
    )


# ---------------------------------------------------------------------------- service requests


def request_contract(
    event: RequestSubmitted | RequestChanged, request: ServiceRequest, *, sla: Sequence[contracts.SlaResult] = ()
) -> EventData:
    """`sla`: the request's SLA targets as they stand after the action (carried by `fulfilled`)."""
    common: dict[str, Any] = {
        "request_id": request.id,
        "number": request.number,
        "status": request.status.value,
        "catalogue_item": request.catalogue_item,
        "requester": request.requester,
        "service_id": request.service_id,
        "priority": request.priority,
        "assignment_group": request.assignment_group,
        "occurred_at": request.updated_at,
        "submitted_at": request.submitted_at,
    }
    if isinstance(event, RequestSubmitted):
        return contracts.RequestSubmitted(**common, actor=request.requester, needs_approval=request.needs_approval)
    common |= {"previous_status": event.previous_status.value, "actor": event.actor, "reason": event.reason}
    if event.action is RequestAction.APPROVE:
        return contracts.RequestApproved(**common, approver=request.approver or event.actor)
    if event.action is RequestAction.REJECT:
        return contracts.RequestRejected(**common, approver=request.approver or event.actor)
    if event.action is RequestAction.START:
        return contracts.RequestFulfilmentStarted(**common)
    if event.action is RequestAction.FULFIL:
        assert request.fulfilled_at is not None
        return contracts.RequestFulfilled(**common, fulfilled_at=request.fulfilled_at, sla=list(sla))
    if event.action is RequestAction.CLOSE:
        return contracts.RequestClosed(**common)
    return contracts.RequestCancelled(**common)


# ---------------------------------------------------------------------------- complaints


def complaint_contract(event: ComplaintReceived | ComplaintChanged, complaint: Complaint) -> EventData:
    common: dict[str, Any] = {
        "complaint_id": complaint.id,
        "number": complaint.number,
        "title": complaint.title,
        "status": complaint.status.value,
        "complainant": complaint.complainant,
        "received_via": complaint.received_via.value,
        "category": complaint.category,
        "service_id": complaint.service_id,
        "owner": complaint.owner,
        "relationship_manager": complaint.relationship_manager,
        "received_at": complaint.received_at,
        "acknowledge_due_at": complaint.acknowledge_due_at,
        "respond_due_at": complaint.respond_due_at,
        "links": [_link_data(link) for link in complaint.links],
        "actor": event.actor,
        "occurred_at": complaint.updated_at,
    }
    if isinstance(event, ComplaintReceived):
        return complaint_contracts.ComplaintReceived(**common)
    common |= {"status": event.status.value, "previous_status": event.previous_status.value, "reason": event.reason}
    action = event.action
    if action is ComplaintAction.ACKNOWLEDGE:
        assert complaint.acknowledged_at is not None
        breached = complaint.acknowledge_breached(complaint.acknowledged_at)
        return complaint_contracts.ComplaintAcknowledged(
            **common, acknowledged_at=complaint.acknowledged_at, acknowledge_breached=breached
        )
    if action is ComplaintAction.INVESTIGATE:
        return complaint_contracts.ComplaintInvestigationStarted(**common)
    if action is ComplaintAction.TAKE_ACTION:
        return complaint_contracts.ComplaintActionTaken(**common, actions_taken=complaint.actions_taken)
    if action is ComplaintAction.RESOLVE:
        assert complaint.responded_at is not None
        return complaint_contracts.ComplaintResolved(
            **common,
            resolution=complaint.resolution,
            responded_at=complaint.responded_at,
            respond_breached=complaint.respond_breached(complaint.responded_at),
        )
    if action in (ComplaintAction.CONFIRM, ComplaintAction.CLOSE):
        assert complaint.closed_at is not None
        return complaint_contracts.ComplaintClosed(
            **common,
            closed_at=complaint.closed_at,
            closure_reason=complaint.closure_reason,
            closure_confirmed_by_customer=complaint.closure_confirmed_by_customer,
        )
    if action is ComplaintAction.ESCALATE:
        assert complaint.escalated_to is not None
        return complaint_contracts.ComplaintEscalated(
            **common, escalated_to=complaint.escalated_to, escalation_level=complaint.escalation_level
        )
    if action is ComplaintAction.REOPEN:
        return complaint_contracts.ComplaintReopened(**common)
    return complaint_contracts.ComplaintUpdated(
        **common,
        changes={k: list(v) for k, v in event.changes.items()},
        added_links=[_link_data(link) for link in event.added_links],
    )


def _link_data(link: ComplaintLink) -> complaint_contracts.ComplaintLinkData:
    return complaint_contracts.ComplaintLinkData(kind=link.kind.value, id=link.id, number=link.number)


# ---------------------------------------------------------------------------- surveys


def survey_contract(event: SurveyIssued | SurveyAnswered, survey: Survey, *, sampling_rate: float = 1.0) -> EventData:
    """No link and no comment text in either (see `shared.events.survey`)."""
    common: dict[str, Any] = {
        "survey_id": survey.id,
        "number": survey.number,
        "ticket_kind": survey.ticket_kind.value,
        "ticket_id": survey.ticket_id,
        "ticket_number": survey.ticket_number,
        "service_id": survey.service_id,
        "respondent": survey.respondent,
        "issued_at": survey.issued_at,
        "expires_at": survey.expires_at,
    }
    if isinstance(event, SurveyIssued):
        return survey_contracts.SurveyIssued(**common, occurred_at=survey.issued_at, sampling_rate=sampling_rate)
    assert survey.answered_at is not None and survey.score is not None
    return survey_contracts.SurveyAnswered(
        **common,
        occurred_at=survey.answered_at,
        answered_at=survey.answered_at,
        score=survey.score,
        has_comment=bool(survey.comment),
        complaint_id=survey.complaint_id,
    )
