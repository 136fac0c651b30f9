"""Templates, releases, deployments and the deployment gate as pure domain code (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Final
from uuid import UUID

from services.change.domain import Change, ChangeStatus, ChangeType
from shared.errors import Conflict, InvalidTransition, RuleViolation


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise RuleViolation(f"{name} needs a time zone", field=name)
    return value.astimezone(UTC)


def _required(value: str, name: str, reason: str) -> str:
    if not value.strip():
        raise RuleViolation(reason, field=name)
    return value.strip()


# ---------------------------------------------------------------------------- change templates

MAX_TEMPLATE_DURATION: Final = timedelta(days=7)


@dataclass
class ChangeTemplate:
    """A pre-approved standard change model (ISO/IEC 20000-1 9.2): the tested procedure, its plans
    and its approval record. A change made from it is a standard change, low risk, approved when it
    is submitted. `pipeline_names` are the names a CI/CD pipeline calls the service by (a GitHub
    repository's full name, a service name): a deployment notification naming one of them, and no
    change, becomes a standard change from this template. `pipeline_default` marks the template used
    for a deployment of a service no template names."""

    id: UUID
    name: str
    description: str
    category: str | None
    service_id: UUID | None
    pipeline_names: tuple[str, ...]
    implementation_plan: str
    backout_plan: str
    test_plan: str
    default_duration: timedelta
    active: bool
    pipeline_default: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    RISK: ClassVar[str] = "low"  # a standard change is low risk by definition: that is what makes it pre-approvable

    @staticmethod
    def _checked(fields: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(fields)
        if "name" in out:
            out["name"] = _required(out["name"], "name", "a template needs a name")
        if "implementation_plan" in out:
            out["implementation_plan"] = _required(
                out["implementation_plan"], "implementation_plan", "a pre-approved model states how it is implemented"
            )
        if "backout_plan" in out:
            out["backout_plan"] = _required(
                out["backout_plan"], "backout_plan", "a pre-approved model states how it is backed out"
            )
        if "default_duration" in out:
            duration: timedelta = out["default_duration"]
            if not timedelta(0) < duration <= MAX_TEMPLATE_DURATION:
                raise RuleViolation("the default duration is more than 0 and at most 7 days", field="default_duration")
        if "pipeline_names" in out:
            out["pipeline_names"] = tuple(sorted({n.strip().lower() for n in out["pipeline_names"] if n.strip()}))
        return out

    @classmethod
    def create(cls, *, template_id: UUID, actor: str, now: datetime, **fields: Any) -> ChangeTemplate:
        return cls(id=template_id, created_by=actor, created_at=now, updated_at=now, version=1, **cls._checked(fields))

    def update(self, now: datetime, **fields: Any) -> None:
        for name, value in self._checked(fields).items():
            setattr(self, name, value)
        self.version += 1
        self.updated_at = now

    def covers(self, *, service_id: UUID | None, service_name: str | None) -> bool:
        if not self.active:
            return False
        if service_id is not None and self.service_id == service_id:
            return True
        return service_name is not None and service_name.strip().lower() in self.pipeline_names


def template_for(
    templates: Iterable[ChangeTemplate], *, service_id: UUID | None, service_name: str | None
) -> ChangeTemplate | None:
    """The active template naming the service (by id or pipeline name), else the active pipeline
    default; the oldest first, so the answer does not change when a newer one is added."""
    ordered = sorted((t for t in templates if t.active), key=lambda t: (t.created_at, t.id))
    named = [t for t in ordered if t.covers(service_id=service_id, service_name=service_name)]
    if named:
        return named[0]
    defaults = [t for t in ordered if t.pipeline_default]
    return defaults[0] if defaults else None


@dataclass(frozen=True)
class TemplateChange:
    """What a requester may add to a standard change made from a template (the rest is the template's)."""

    title: str | None = None
    description: str | None = None
    justification: str = ""
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    affected_ci_ids: tuple[UUID, ...] = ()
    service_ids: tuple[UUID, ...] = ()
    planned_ci_changes: tuple[Mapping[str, Any], ...] = ()


# ---------------------------------------------------------------------------- releases


class ReleaseType(StrEnum):
    MAJOR = "major"
    MINOR = "minor"
    EMERGENCY = "emergency"  # linked to an emergency change: may deploy before its acceptance test


class ReleaseStatus(StrEnum):
    PLANNED = "planned"
    BUILT = "built"
    ACCEPTANCE_FAILED = "acceptance_failed"
    ACCEPTED = "accepted"
    DEPLOYED = "deployed"
    FAILED = "failed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ReleaseAction(StrEnum):
    BUILD = "build"
    ACCEPT = "accept"
    REJECT = "reject"
    DEPLOY = "deploy"
    FAIL = "fail"
    CLOSE = "close"
    CANCEL = "cancel"


RS, RA = ReleaseStatus, ReleaseAction
# The release lifecycle as a table: status -> action -> the status it leads to.
RELEASE_TRANSITIONS: Final[Mapping[ReleaseStatus, Mapping[ReleaseAction, ReleaseStatus]]] = {
    RS.PLANNED: {RA.BUILD: RS.BUILT, RA.CANCEL: RS.CANCELLED},
    RS.BUILT: {RA.ACCEPT: RS.ACCEPTED, RA.REJECT: RS.ACCEPTANCE_FAILED, RA.CANCEL: RS.CANCELLED},
    RS.ACCEPTANCE_FAILED: {RA.BUILD: RS.BUILT, RA.CANCEL: RS.CANCELLED},  # reworked and built again
    RS.ACCEPTED: {RA.DEPLOY: RS.DEPLOYED, RA.CANCEL: RS.CANCELLED},
    RS.DEPLOYED: {RA.CLOSE: RS.CLOSED, RA.FAIL: RS.FAILED},
    RS.FAILED: {RA.CLOSE: RS.CLOSED},
    RS.CLOSED: {},
    RS.CANCELLED: {},
}

EMERGENCY_SHORTCUTS: Final[Mapping[ReleaseStatus, Mapping[ReleaseAction, ReleaseStatus]]] = {
    # An emergency release follows the emergency change procedure: it may go out once built, its
    # acceptance decided afterwards in the change's review.
    RS.BUILT: {RA.DEPLOY: RS.DEPLOYED},
}

AUTHORISED_CHANGE_STATUSES: Final = frozenset(
    {"approved", "scheduled", "implementing", "implemented", "reviewed", "closed"}
)
"""A change in one of these was approved; a release deploys only approved changes."""


class AcceptanceResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True)
class ReleasePlanned:
    release_id: UUID


@dataclass(frozen=True)
class ReleaseMoved:
    release_id: UUID
    action: ReleaseAction
    previous: ReleaseStatus
    status: ReleaseStatus
    actor: str


@dataclass
class Release:
    id: UUID
    number: str
    name: str
    version: str
    release_type: ReleaseType
    service_id: UUID | None
    change_ids: tuple[UUID, ...]
    known_error_ids: tuple[UUID, ...]
    planned_date: datetime | None
    acceptance_criteria: tuple[str, ...]
    status: ReleaseStatus
    created_by: str
    created_at: datetime
    updated_at: datetime
    acceptance_result: AcceptanceResult | None = None
    acceptance_notes: str = ""
    acceptance_by: str | None = None
    deployed_at: datetime | None = None
    notes: str = ""
    row_version: int = 1
    pending_events: list[ReleasePlanned | ReleaseMoved] = field(default_factory=list, compare=False, repr=False)

    def _moves(self) -> Mapping[ReleaseAction, ReleaseStatus]:
        moves = dict(RELEASE_TRANSITIONS[self.status])
        if self.release_type is ReleaseType.EMERGENCY:
            moves.update(EMERGENCY_SHORTCUTS.get(self.status, {}))
        return moves

    def allowed_actions(self) -> list[str]:
        return [a.value for a in self._moves()]

    def _move(self, action: ReleaseAction, actor: str, now: datetime) -> None:
        target = self._moves().get(action)
        if target is None:
            raise InvalidTransition(action.value, self.status.value, self.allowed_actions())
        previous, self.status = self.status, target
        self.row_version += 1
        self.updated_at = now
        self.pending_events.append(ReleaseMoved(self.id, action, previous, target, actor))

    def build(self, actor: str, now: datetime) -> None:
        self._move(ReleaseAction.BUILD, actor, now)

    def accept(self, notes: str, actor: str, now: datetime) -> None:
        """The acceptance test passed against the agreed criteria: the release may be deployed."""
        if ReleaseAction.ACCEPT in self._moves():
            if not self.acceptance_criteria:
                raise RuleViolation(
                    "a release is accepted against agreed acceptance criteria: it has none",
                    field="acceptance_criteria",
                )
            _required(notes, "notes", "say how the acceptance test showed the criteria are met")
        self._move(ReleaseAction.ACCEPT, actor, now)
        self._record_acceptance(AcceptanceResult.PASSED, notes, actor)

    def reject(self, notes: str, actor: str, now: datetime) -> None:
        """The acceptance test failed: the release goes back for rework (built again) or is cancelled."""
        if ReleaseAction.REJECT in self._moves():
            _required(notes, "notes", "say which acceptance criteria were not met")
        self._move(ReleaseAction.REJECT, actor, now)
        self._record_acceptance(AcceptanceResult.FAILED, notes, actor)

    def _record_acceptance(self, result: AcceptanceResult, notes: str, actor: str) -> None:
        self.acceptance_result, self.acceptance_notes, self.acceptance_by = result, notes.strip(), actor

    def deploy(self, actor: str, now: datetime, change_statuses: Mapping[UUID, tuple[str, str]]) -> None:
        """Deployed to production. Every change the release contains must have been approved:
        `change_statuses` maps each change id to (number, status)."""
        if ReleaseAction.DEPLOY in self._moves():
            unapproved = [
                f"{number} is {status}"
                for cid in self.change_ids
                for number, status in [change_statuses.get(cid, (str(cid), "unknown"))]
                if status not in AUTHORISED_CHANGE_STATUSES
            ]
            if unapproved:
                raise Conflict(
                    f"{self.number} contains changes that are not approved: " + "; ".join(unapproved),
                    unapproved_changes=unapproved,
                )
        self._move(ReleaseAction.DEPLOY, actor, now)
        self.deployed_at = now

    def fail(self, notes: str, actor: str, now: datetime) -> None:
        if ReleaseAction.FAIL in self._moves():
            _required(notes, "notes", "say what failed and how the release was rolled back")
        self._move(ReleaseAction.FAIL, actor, now)
        self.notes = notes.strip()

    def close(self, actor: str, now: datetime) -> None:
        self._move(ReleaseAction.CLOSE, actor, now)

    def cancel(self, actor: str, now: datetime) -> None:
        self._move(ReleaseAction.CANCEL, actor, now)

    @classmethod
    def plan(
        cls,
        *,
        release_id: UUID,
        number: str,
        name: str,
        version: str,
        release_type: ReleaseType,
        service_id: UUID | None,
        change_ids: Iterable[UUID],
        known_error_ids: Iterable[UUID],
        planned_date: datetime | None,
        acceptance_criteria: Iterable[str],
        actor: str,
        now: datetime,
    ) -> Release:
        release = cls(
            id=release_id,
            number=number,
            name=_required(name, "name", "a release needs a name"),
            version=_required(version, "version", "a release needs a version"),
            release_type=release_type,
            service_id=service_id,
            change_ids=tuple(dict.fromkeys(change_ids)),
            known_error_ids=tuple(dict.fromkeys(known_error_ids)),
            planned_date=_utc(planned_date, "planned_date"),
            acceptance_criteria=tuple(c.strip() for c in acceptance_criteria if c.strip()),
            status=ReleaseStatus.PLANNED,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        release.pending_events.append(ReleasePlanned(release_id))
        return release


# ---------------------------------------------------------------------------- deployments


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
        start, end = _utc(started_at, "started_at"), _utc(finished_at, "finished_at")
        if start is not None and end is not None and end < start:
            raise RuleViolation("a deployment finishes after it starts", field="finished_at")
        if result is DR.IN_PROGRESS and end is not None:
            raise RuleViolation("a deployment in progress has not finished", field="finished_at")
        item = cls(
            id=deployment_id,
            service=_required(service, "service", "name the deployed service"),
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
        self.finished_at = _utc(finished_at, "finished_at") or now
        self._changed(now)
        return True

    def verify(self, verification: str, passed: bool, now: datetime) -> None:
        """Record the checks made after the deployment (smoke tests, checksums); a failed check
        marks a deployment that looked successful as failed."""
        text = _required(verification, "verification", "say what was checked and what it showed")
        if self.result is DR.IN_PROGRESS:
            raise InvalidTransition("verify", self.result.value, ["roll_back"])
        if not passed and self.result is DR.SUCCEEDED:
            self.result = DR.FAILED
        self.verification = text
        self._changed(now)

    def roll_back(self, notes: str, now: datetime) -> None:
        text = _required(notes, "notes", "say how the deployment was rolled back")
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


# ---------------------------------------------------------------------------- the gate


@dataclass(frozen=True)
class OpenChange:
    """A change on the schedule for the service, as the gate sees it."""

    id: UUID
    number: str
    status: str
    start: datetime
    end: datetime
    ci_ids: frozenset[UUID]


@dataclass(frozen=True)
class ActiveBlackout:
    id: UUID
    name: str
    start: datetime
    end: datetime
    ci_ids: frozenset[UUID]  # empty: every CI


@dataclass(frozen=True)
class GateAnswer:
    allowed: bool
    reasons: tuple[str, ...]
    change: OpenChange | None = None
    template: ChangeTemplate | None = None
    blackouts: tuple[ActiveBlackout, ...] = ()


def gate(
    *,
    service_id: UUID | None,
    service_name: str | None,
    environment: Environment,
    gated: bool,
    now: datetime,
    changes: Sequence[OpenChange],
    templates: Sequence[ChangeTemplate],
    blackouts: Sequence[ActiveBlackout],
) -> GateAnswer:
    """May a pipeline deploy the service to the environment now? Yes when an approved change for
    the service has its window open now, or a standard change template pre-approves deploying it,
    and no blackout covering it is in force. `changes` are the service's changes on the schedule."""
    label = service_name or str(service_id)
    if not gated:
        return GateAnswer(True, (f"the {environment.value} environment is not under change control",))
    open_now = sorted((c for c in changes if c.start <= now < c.end), key=lambda c: (c.start, c.number))
    change = open_now[0] if open_now else None
    template = None if change else template_for(templates, service_id=service_id, service_name=service_name)
    reasons: list[str] = []
    if change is not None:
        reasons.append(
            f"{change.number} ({change.status}) authorises deploying {label}: its window "
            f"{change.start.isoformat()} to {change.end.isoformat()} is open"
        )
    elif template is not None:
        reasons.append(
            f"the standard change template {template.name!r} pre-approves deploying {label}: "
            "the deployment is recorded as a standard change from it"
        )
    else:
        reasons.append(
            f"no approved change for {label} has its window open now, and no standard change template covers it"
        )
    covered = frozenset({service_id} if service_id else set()) | (change.ci_ids if change else frozenset())
    in_force = tuple(b for b in blackouts if b.start <= now < b.end and (not b.ci_ids or b.ci_ids & covered))
    for b in in_force:
        reasons.append(f"the blackout {b.name!r} ({b.start.isoformat()} to {b.end.isoformat()}) is in force")
    allowed = (change is not None or template is not None) and not in_force
    return GateAnswer(allowed, tuple(reasons), change, template, in_force)


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
