"""What the incident service publishes: its domain events turned into the published contracts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.incident.domain import Action, Incident, IncidentChanged, IncidentOpened
from shared.events import EventData
from shared.events import incident as contracts


def to_contract(
    event: IncidentOpened | IncidentChanged, incident: Incident, *, sla: Sequence[contracts.SlaResult] = ()
) -> EventData | None:
    """The published event for a domain event; None for an edit that consumers have no event for
    (a title or category correction: it is in the history). `sla`: the ticket's SLA targets as
    they stand after the action (carried by `resolved`)."""
    if isinstance(event, IncidentOpened):
        return contracts.IncidentCreated(
            incident_id=event.incident_id,
            number=incident.number,
            title=incident.title,
            impact=int(incident.impact),
            urgency=int(incident.urgency),
            priority=incident.priority,
            caller=incident.caller,
            ci_id=incident.ci_id,
            opened_at=incident.opened_at,
            channel=incident.channel.value,
            category=incident.category,
            subcategory=incident.subcategory,
            service_id=incident.service_id,
            assignment_group=incident.assignment_group,
            supplier_id=incident.supplier_id,
            major=incident.major,
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
        return contracts.MajorIncidentDeclared(
            **common, manager=incident.major_manager, declared_at=incident.major_declared_at
        )
    if event.action is Action.REVIEW:
        return None  # no contract yet; the review is in the history and at GET .../review
    hold = incident.hold_reason.value if incident.hold_reason else None
    return contracts.IncidentStatusChanged(**common, hold_reason=hold)
