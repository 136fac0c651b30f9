"""Releases as pure code (ISO/IEC 20000-1 9.3): their lifecycle, acceptance against agreed
criteria, and deploying only approved changes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final
from uuid import UUID

from services.change.domain.changes import as_utc, required_text
from shared.errors import Conflict, InvalidTransition, RuleViolation


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

RELEASE_FINAL: Final = frozenset(s for s, moves in RELEASE_TRANSITIONS.items() if not moves)
"""Closed and cancelled: nothing moves a release on from these."""

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
    closed_at: datetime | None = None
    """When it reached a final status (`RELEASE_FINAL`): its retention period counts from here (4.3.3)."""
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
        self.closed_at = now if target in RELEASE_FINAL else None
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
            required_text(notes, "notes", "say how the acceptance test showed the criteria are met")
        self._move(ReleaseAction.ACCEPT, actor, now)
        self._record_acceptance(AcceptanceResult.PASSED, notes, actor)

    def reject(self, notes: str, actor: str, now: datetime) -> None:
        """The acceptance test failed: the release goes back for rework (built again) or is cancelled."""
        if ReleaseAction.REJECT in self._moves():
            required_text(notes, "notes", "say which acceptance criteria were not met")
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
            required_text(notes, "notes", "say what failed and how the release was rolled back")
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
            name=required_text(name, "name", "a release needs a name"),
            version=required_text(version, "version", "a release needs a version"),
            release_type=release_type,
            service_id=service_id,
            change_ids=tuple(dict.fromkeys(change_ids)),
            known_error_ids=tuple(dict.fromkeys(known_error_ids)),
            planned_date=as_utc(planned_date, "planned_date"),
            acceptance_criteria=tuple(c.strip() for c in acceptance_criteria if c.strip()),
            status=ReleaseStatus.PLANNED,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        release.pending_events.append(ReleasePlanned(release_id))
        return release
