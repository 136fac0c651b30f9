"""What the incident service's events set in the fact tables: incidents, SLA results and breach
notices, service requests, problems and the links between them (no I/O)."""

from __future__ import annotations

from typing import Any

from services.reporting.domain.facts import CHANGE_INCIDENTS, INCIDENTS, PROBLEMS, REQUESTS, FactTable
from shared.events.incident import (
    IncidentCreated,
    IncidentEscalated,
    IncidentEvent,
    IncidentLinkedToChange,
    IncidentLinkedToProblem,
    IncidentMajorDeclared,
    IncidentReopened,
    IncidentResolved,
    ProblemCreated,
    ProblemEvent,
    ProblemKnownErrorPublished,
    ProblemResolved,
    ProblemUpdated,
    RequestEvent,
    RequestFulfilled,
    SlaBreached,
    SlaResult,
)

_OPEN_STATUSES_FOR_RESPONSE = {"in_progress", "assigned"}


def _sla_columns(results: list[SlaResult], *, resolution_name: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for result in results:
        name = "response_met" if result.target == "response" else f"{resolution_name}_met"
        values[name] = result.met if values.get(name) is None else values[name] and result.met
    return values


def _incident_state(data: IncidentEvent) -> dict[str, Any]:
    return {
        "incident_id": data.incident_id,
        "number": data.number,
        "status": data.status,
        "priority": data.priority,
        "service_id": data.service_id,
        "ci_id": data.ci_id,
        "category": data.category,
        "assignment_group": data.assignment_group,
        "supplier_id": data.supplier_id,
        "major": data.major or None,
    }


def incident_created(data: IncidentCreated) -> list[tuple[FactTable, dict[str, Any]]]:
    return [
        (
            INCIDENTS,
            {
                "incident_id": data.incident_id,
                "number": data.number,
                "status": data.status,
                "priority": data.priority,
                "impact": data.impact,
                "urgency": data.urgency,
                "service_id": data.service_id,
                "ci_id": data.ci_id,
                "category": data.category,
                "assignment_group": data.assignment_group,
                "supplier_id": data.supplier_id,
                "channel": data.channel,
                "major": data.major or None,
                "opened_at": data.opened_at,
                # The customer it is for (their agreed SLA's targets ran its clocks), when named.
                **({"customer_id": data.customer_id} if data.customer_id is not None else {}),
            },
        )
    ]


def incident_later(data: IncidentEvent, routing_key: str) -> list[tuple[FactTable, dict[str, Any]]]:
    values = _incident_state(data)
    if routing_key == "incident.assigned.v1":
        values["first_response_at"] = data.occurred_at
        # A reassignment moves the incident from one group to another (the first assignment is not one).
        previous_group = (data.changes.get("assignment_group") or [None])[0]
        values["reassignments"] = 1 if previous_group else 0
    elif routing_key == "incident.status_changed.v1" and data.status in _OPEN_STATUSES_FOR_RESPONSE:
        values["first_response_at"] = data.occurred_at
    elif routing_key == IncidentEscalated.routing_key:
        values["escalations"] = 1
    elif routing_key == IncidentReopened.routing_key:
        values["reopens"] = 1
    elif routing_key == IncidentMajorDeclared.routing_key:
        values["major"] = True
    elif routing_key == "incident.closed.v1":
        values["closed_at"] = data.occurred_at
    if isinstance(data, IncidentResolved):
        values["resolved_at"] = data.resolved_at
        values["opened_at"] = data.opened_at
        if data.first_response_at is not None:
            values["first_response_at"] = data.first_response_at
        values.update(_sla_columns(data.sla, resolution_name="resolution"))
    return [(INCIDENTS, values)]


def sla_breached(data: SlaBreached) -> list[tuple[FactTable, dict[str, Any]]]:
    if data.ticket_kind == "incident":
        name = "response" if data.target == "response" else "resolution"
        return [
            (
                INCIDENTS,
                {
                    "incident_id": data.ticket_id,
                    "number": data.ticket_number,
                    "priority": data.priority,
                    "service_id": data.service_id,
                    "assignment_group": data.assignment_group,
                    "supplier_id": data.supplier_id,
                    "ci_id": data.ci_id,
                    f"{name}_breached": True,
                },
            )
        ]
    name = "response" if data.target == "response" else "fulfilment"
    return [
        (
            REQUESTS,
            {
                "request_id": data.ticket_id,
                "number": data.ticket_number,
                "priority": data.priority,
                "service_id": data.service_id,
                "assignment_group": data.assignment_group,
                f"{name}_breached": True,
            },
        )
    ]


def request(data: RequestEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "request_id": data.request_id,
        "number": data.number,
        "catalogue_item": data.catalogue_item,
        "status": data.status,
        "priority": data.priority,
        "service_id": data.service_id,
        "assignment_group": data.assignment_group,
        "submitted_at": data.submitted_at,
    }
    if isinstance(data, RequestFulfilled):
        values["fulfilled_at"] = data.fulfilled_at
        values.update(_sla_columns(data.sla, resolution_name="fulfilment"))
    if data.status == "closed":
        values["closed_at"] = data.occurred_at
    return [(REQUESTS, values)]


def problem(data: ProblemEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "problem_id": data.problem_id,
        "number": data.number,
        "status": data.status,
        "service_id": data.service_id,
        "ci_id": data.ci_id,
        "category": data.category,
        "incident_count": len(data.incident_ids),
    }
    if isinstance(data, ProblemCreated):
        values["origin"] = data.origin
        values["opened_at"] = data.occurred_at
    if isinstance(data, ProblemKnownErrorPublished):
        values["known_error_at"] = data.occurred_at
    if isinstance(data, ProblemUpdated | ProblemResolved) and data.change_id is not None:
        values["change_id"] = data.change_id
    if isinstance(data, ProblemResolved):
        values["resolved_at"] = data.occurred_at
    if data.status == "closed":
        values["closed_at"] = data.occurred_at
    return [(PROBLEMS, values)]


def linked_to_problem(data: IncidentLinkedToProblem) -> list[tuple[FactTable, dict[str, Any]]]:
    return [
        (
            INCIDENTS,
            {
                "incident_id": data.incident_id,
                "number": data.incident_number,
                "problem_id": data.problem_id,
                "problem_link_reason": data.reason,
            },
        )
    ]


def linked_to_change(data: IncidentLinkedToChange) -> list[tuple[FactTable, dict[str, Any]]]:
    return [
        (
            INCIDENTS,
            {"incident_id": data.incident_id, "number": data.incident_number, "caused_by_change_id": data.change_id},
        ),
        (
            CHANGE_INCIDENTS,
            {"change_id": data.change_id, "incident_id": data.incident_id, "service_id": data.service_id},
        ),
    ]
