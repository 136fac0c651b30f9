"""Pipeline notifications turned into deployment reports: the generic JSON and GitHub's
`deployment_status` webhook. Which GitHub states mean what is decided here."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from services.change.delivery.domain import DeploymentResult, environment_named
from services.change.delivery.schemas import GenericDeploymentEvent, GitHubDeploymentStatusEvent
from services.change.delivery.usecases import DeploymentReport
from shared.errors import RuleViolation

GITHUB_STATES: Final[Mapping[str, DeploymentResult | None]] = {
    "queued": DeploymentResult.IN_PROGRESS,
    "pending": DeploymentResult.IN_PROGRESS,
    "in_progress": DeploymentResult.IN_PROGRESS,
    "success": DeploymentResult.SUCCEEDED,
    "failure": DeploymentResult.FAILED,
    "error": DeploymentResult.FAILED,
    # Nothing was deployed: waiting for a reviewer, or an older deployment superseded by a newer one.
    "waiting": None,
    "inactive": None,
}

CHANGE_NUMBER = re.compile(r"^CHG\d{7}$", re.IGNORECASE)


def from_generic(event: GenericDeploymentEvent, actor: str) -> DeploymentReport:
    return DeploymentReport(
        service=event.service,
        service_id=event.service_id,
        environment=environment_named(event.environment),
        result=event.status,
        actor=actor,
        source="generic",
        version=event.version,
        started_at=event.started_at,
        finished_at=event.finished_at,
        commit_sha=event.commit_sha,
        ref=event.ref,
        url=event.url,
        change_number=event.change_number,
        release_id=event.release_id,
        external_id=event.deployment_id,
        notification_id=event.event_id,
    )


def _payload(raw: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    """`deployment.payload` is the JSON the deployment was created with; GitHub sends it as an
    object, or as a string when it was given as one."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return {}
    return raw if isinstance(raw, Mapping) else {}


def from_github(event: GitHubDeploymentStatusEvent, actor: str, delivery_id: str | None) -> DeploymentReport | None:
    """The report for a GitHub deployment status, or None when the state records nothing."""
    result = GITHUB_STATES[event.deployment_status.state]
    if result is None:
        return None
    status, deployment = event.deployment_status, event.deployment
    payload = _payload(deployment.payload)
    change_number = payload.get("change_number") or payload.get("change")
    if change_number is not None and not (isinstance(change_number, str) and CHANGE_NUMBER.match(change_number)):
        raise RuleViolation(
            "deployment.payload.change_number is a change number like CHG0000042", field="change_number"
        )
    service = payload.get("service")
    version = payload.get("version")
    at = status.created_at or status.updated_at
    return DeploymentReport(
        service=service if isinstance(service, str) and service.strip() else event.repository.full_name,
        environment=environment_named(deployment.environment),
        result=result,
        actor=actor,
        source="github",
        version=version if isinstance(version, str) else deployment.ref,
        started_at=(deployment.created_at or at) if result is DeploymentResult.IN_PROGRESS else deployment.created_at,
        finished_at=None if result is DeploymentResult.IN_PROGRESS else at,
        commit_sha=deployment.sha,
        ref=deployment.ref,
        url=status.log_url or status.target_url or status.environment_url,
        change_number=change_number,
        # One record per GitHub deployment; each of its statuses is one notification, taken once.
        external_id=f"{event.repository.full_name}#{deployment.id}",
        notification_id=str(status.id),
        delivery_id=delivery_id,
    )
