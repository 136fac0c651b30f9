"""What the service request module publishes: its domain events turned into the contracts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.incident.requests.domain import RequestAction, RequestChanged, RequestSubmitted, ServiceRequest
from shared.events import EventData
from shared.events import incident as contracts


def to_contract(
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
