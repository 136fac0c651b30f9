"""Deployments as pure code: one deployment of a version of a service to an environment, its
results, and the standard change from a template that follows it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final
from uuid import UUID

from services.change.domain.changes import Change, ChangeStatus, ChangeType, as_utc, required_text
from shared.errors import InvalidTransition, RuleViolation


class Environment(StrEnum):
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


ENVIRONMENT_NAMES: Final[Mapping[str, Environment]] = {
    **{e.value: e for e in Environment},
    "prod": Environment.PRODUCTION,
    "live": Environment.PRODUCTION,
    "stage": Environment.STAGING,
    "preprod": Environment.STAGING,
    "pre-production": Environment.STAGING,
    "qa": Environment.TEST,
    "testing": Environment.TEST,
}
"""How pipelines commonly name the three environments (GitHub environments are free text)."""


def environment_named(name: str) -> Environment:
    found = ENVIRONMENT_NAMES.get(name.strip().lower())
    if found is None:
        raise RuleViolation(
            f"unknown environment {name!r}: use test, staging or production"
            f" (or one of {', '.join(sorted(ENVIRONMENT_NAMES))})",
            field="environment",
        )
    return found


class DeploymentResult(StrEnum):
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


DR = DeploymentResult
RESULT_MOVES: Final[Mapping[DeploymentResult, frozenset[DeploymentResult]]] = {
    DR.IN_PROGRESS: frozenset({DR.SUCCEEDED, DR.FAILED, DR.ROLLED_BACK}),
    DR.SUCCEEDED: frozenset({DR.FAILED, DR.ROLLED_BACK}),  # a failed verification after the fact
    DR.FAILED: frozenset({DR.ROLLED_BACK}),
    DR.ROLLED_BACK: frozenset(),
}
FINISHED: Final = frozenset({DR.SUCCEEDED, DR.FAILED, DR.ROLLED_BACK})


@dataclass(frozen=True)
class DeploymentChanged:
    deployment_id: UUID


@dataclass
class Deployment:
    """One deployment of a version of a service to an environment, from the API or a pipeline."""

    id: UUID
    service: str
    service_id: UUID | None
    environment: Environment
    version: str | None
    release_id: UUID | None
    change_id: UUID | None
    change_number: str | None
    result: DeploymentResult
    started_at: datetime | None
    finished_at: datetime | None
    commit_sha: str | None
    ref: str | None
    url: str | None
    source: str
    external_id: str | None
    recorded_by: str
    recorded_at: datetime
    updated_at: datetime
    verification: str = ""
    rollback_notes: str = ""
    row_version: int = 1
    pending_events: list[DeploymentChanged] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def record(
        cls,
        *,
        deployment_id: UUID,
        service: str,
        service_id: UUID | None,
        environment: Environment,
        version: str | None,
        result: DeploymentResult,
        started_at: datetime | None,
        finished_at: datetime | None,
        source: str,
        recorded_by: str,
        now: datetime,
        release_id: UUID | None = None,
        change_id: UUID | None = None,
        change_number: str | None = None,
        commit_sha: str | None = None,
        ref: str | None = None,
        url: str | None = None,
        external_id: str | None = None,
        verification: str = "",
    ) -> Deployment:
        start, end = as_utc(started_at, "started_at"), as_utc(finished_at, "finished_at")
        if start is not None and end is not None and end < start:
            raise RuleViolation("a deployment finishes after it starts", field="finished_at")
        if result is DR.IN_PROGRESS and end is not None:
            raise RuleViolation("a deployment in progress has not finished", field="finished_at")
        item = cls(
            id=deployment_id,
            service=required_text(service, "service", "name the deployed service"),
            service_id=service_id,
            environment=environment,
            version=version,
            release_id=release_id,
            change_id=change_id,
            change_number=change_number,
            result=result,
            started_at=start or (now if result is DR.IN_PROGRESS else None),
            finished_at=end or (now if result in FINISHED else None),
            commit_sha=commit_sha,
            ref=ref,
            url=url,
            source=source,
            external_id=external_id,
            recorded_by=recorded_by,
            recorded_at=now,
            updated_at=now,
            verification=verification,
        )
        item.pending_events.append(DeploymentChanged(deployment_id))
        return item

    def report(self, result: DeploymentResult, now: datetime, finished_at: datetime | None = None) -> bool:
        """A later status of the same deployment. Returns whether anything changed: the same result
        again changes nothing, and `in_progress` after the end is a late, stale notification."""
        if result is self.result or (result is DR.IN_PROGRESS and self.result in FINISHED):
            return False
        if result not in RESULT_MOVES[self.result]:
            raise InvalidTransition(result.value, self.result.value, [r.value for r in RESULT_MOVES[self.result]])
        self.result = result
        self.finished_at = as_utc(finished_at, "finished_at") or now
        self._changed(now)
        return True

    def verify(self, verification: str, passed: bool, now: datetime) -> None:
        """Record the checks made after the deployment (smoke tests, checksums); a failed check
        marks a deployment that looked successful as failed."""
        text = required_text(verification, "verification", "say what was checked and what it showed")
        if self.result is DR.IN_PROGRESS:
            raise InvalidTransition("verify", self.result.value, ["roll_back"])
        if not passed and self.result is DR.SUCCEEDED:
            self.result = DR.FAILED
        self.verification = text
        self._changed(now)

    def roll_back(self, notes: str, now: datetime) -> None:
        text = required_text(notes, "notes", "say how the deployment was rolled back")
        if DR.ROLLED_BACK not in RESULT_MOVES[self.result]:
            raise InvalidTransition("roll_back", self.result.value, [])
        self.result = DR.ROLLED_BACK
        self.rollback_notes = text
        self.finished_at = now
        self._changed(now)

    def _changed(self, now: datetime) -> None:
        self.row_version += 1
        self.updated_at = now
        self.pending_events.append(DeploymentChanged(self.id))


def follow_deployment(change: Change, result: DeploymentResult, actor: str, now: datetime) -> None:
    """A standard change from a template follows the deployment it was made for: implementing
    while the deployment runs, implemented when it succeeded, failed when it failed or was rolled
    back. The deployment has happened, so a blackout does not hold the change back here; it stays
    visible among the change's conflicts. Other changes are only linked: their managers move them."""
    if change.change_type is not ChangeType.STANDARD or change.template_id is None:
        return
    if change.status is ChangeStatus.APPROVED:
        change.schedule(actor, now)
    if change.status is ChangeStatus.SCHEDULED:
        change.start(actor, now)
    if change.status is not ChangeStatus.IMPLEMENTING or result is DeploymentResult.IN_PROGRESS:
        return
    if result is DeploymentResult.SUCCEEDED:
        change.complete(actor, now)
    else:
        change.fail(f"the deployment {result.value.replace('_', ' ')}; the pipeline reported it", actor, now)
