"""What the change service publishes: the domain events of changes, releases and deployments turned into
the published contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.change.domain.changes import Change, ChangeDrafted, ChangeStatus, StatusChanged
from services.change.domain.costs import ChangeCost
from services.change.domain.deployments import Deployment, DeploymentChanged
from services.change.domain.releases import Release, ReleaseMoved, ReleasePlanned
from shared.events import EventData
from shared.events import change as contracts
from shared.events.cost import ChangeCostStated


def to_contract(event: ChangeDrafted | StatusChanged, item: Change) -> EventData:
    if isinstance(event, ChangeDrafted):
        return contracts.ChangeCreated(
            change_id=event.change_id,
            number=item.number,
            title=item.title,
            type=item.change_type.value,
            status=ChangeStatus.DRAFT.value,
            requester=item.requester,
            created_at=item.created_at,
            **_context(item),
        )
    if event.status is ChangeStatus.APPROVED:
        return contracts.ChangeApproved.from_record(
            item,
            change_id=item.id,
            type=item.change_type.value,
            affected_ci_ids=list(item.affected_ci_ids),
            approved_at=item.updated_at,
            service_ids=list(item.service_ids),
            **_who(item),
        )
    if event.status is ChangeStatus.IMPLEMENTED:
        return contracts.ChangeImplemented(
            change_id=item.id,
            number=item.number,
            implemented_at=item.updated_at,
            implemented_by=event.actor,
            planned_ci_changes=[contracts.PlannedCIChange.model_validate(c) for c in item.planned_ci_changes],
            type=item.change_type.value,
            created_at=item.created_at,
            affected_ci_ids=list(item.affected_ci_ids),
            service_ids=list(item.service_ids),
            # A change of potential major impact (clause 5) is a major change to the service environment (6.3.3).
            major_environment_change=item.major,
            **_who(item),
        )
    common: dict[str, Any] = {
        "change_id": item.id,
        "number": item.number,
        "type": item.change_type.value,
        "status": event.status.value,
        "previous_status": event.previous.value,
        "actor": event.actor,
        "occurred_at": item.updated_at,
        "created_at": item.created_at,
        **_context(item),
        **_who(item),
    }
    by_status: dict[ChangeStatus, type[contracts.ChangeStatusEvent]] = {
        ChangeStatus.SUBMITTED: contracts.ChangeSubmitted,
        ChangeStatus.ASSESSED: contracts.ChangeAssessed,
        ChangeStatus.REJECTED: contracts.ChangeRejected,
        ChangeStatus.SCHEDULED: contracts.ChangeScheduled,
        ChangeStatus.IMPLEMENTING: contracts.ChangeImplementing,
        ChangeStatus.FAILED: contracts.ChangeFailed,
        ChangeStatus.REVIEWED: contracts.ChangeReviewed,
        ChangeStatus.CLOSED: contracts.ChangeClosed,
        ChangeStatus.CANCELLED: contracts.ChangeCancelled,
    }
    return by_status[event.status].model_validate({**common, **dict(event.detail)})


def _context(item: Change) -> dict[str, Any]:
    """What consumers aggregate by: the CIs and services, the window, clause 5 flags."""
    return {
        "affected_ci_ids": list(item.affected_ci_ids),
        "service_ids": list(item.service_ids),
        "planned_start": item.planned_start,
        "planned_end": item.planned_end,
        "major": item.major,
        "service_transition": item.service_transition.value if item.service_transition else None,
    }


def _who(item: Change) -> dict[str, Any]:
    """Who requested, assessed and approved the change, as its record holds them."""
    return {
        "requested_by": item.requester,
        "assessed_by": item.assessed_by,
        "approved_by": [v.voter for v in item.votes if v.approve],
    }


def release_contract(event: ReleasePlanned | ReleaseMoved, item: Release) -> EventData:
    common: dict[str, Any] = {
        "release_id": item.id,
        "number": item.number,
        "name": item.name,
        "version": item.version,
        "type": item.release_type.value,
        "status": item.status.value,
        "service_id": item.service_id,
        "change_ids": list(item.change_ids),
        "known_error_ids": list(item.known_error_ids),
        "planned_date": item.planned_date,
        "occurred_at": item.updated_at,
    }
    if isinstance(event, ReleasePlanned):
        return contracts.ReleaseCreated(**common, actor=item.created_by)
    return contracts.ReleaseStatusChanged(
        **{**common, "status": event.status.value},
        actor=event.actor,
        previous_status=event.previous.value,
        acceptance_result=item.acceptance_result.value if item.acceptance_result else None,
    )


def deployment_contract(event: DeploymentChanged, item: Deployment) -> EventData:
    return contracts.DeploymentRecorded.from_record(
        item,
        deployment_id=item.id,
        environment=item.environment.value,
        result=item.result.value,
        recorded_at=item.updated_at,
    )


def cost_stated(item: Change, cost: ChangeCost, actor: str, at: datetime) -> ChangeCostStated:
    return ChangeCostStated(
        change_id=item.id,
        number=item.number,
        service_ids=list(item.service_ids),
        currency=cost.currency,
        estimated_cost=cost.estimated_cost,
        actual_cost=cost.actual_cost,
        cost_category=cost.cost_category,
        budget_id=cost.budget_id,
        stated_at=at,
        stated_by=actor,
    )
