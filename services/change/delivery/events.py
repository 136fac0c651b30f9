"""What the release and deployment side publishes: domain events turned into the contracts."""

from __future__ import annotations

from typing import Any

from services.change.delivery.domain import Deployment, DeploymentChanged, Release, ReleaseMoved, ReleasePlanned
from shared.events import EventData
from shared.events import change as contracts


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
    return contracts.DeploymentRecorded(
        deployment_id=item.id,
        service_id=item.service_id,
        service=item.service,
        environment=item.environment.value,
        version=item.version,
        release_id=item.release_id,
        change_id=item.change_id,
        change_number=item.change_number,
        result=item.result.value,
        started_at=item.started_at,
        finished_at=item.finished_at,
        commit_sha=item.commit_sha,
        source=item.source,
        url=item.url,
        recorded_at=item.updated_at,
    )
