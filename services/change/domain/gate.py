"""The deployment gate as pure code: may a pipeline deploy a service to an environment now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from services.change.domain.deployments import Environment
from services.change.domain.templates import ChangeTemplate, template_for


@dataclass(frozen=True)
class OpenChange:
    """A change on the schedule for the service, as the gate sees it."""

    id: UUID
    number: str
    status: str
    start: datetime
    end: datetime
    ci_ids: frozenset[UUID]
    template_id: UUID | None = None


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
    change = open_change_at(changes, now)
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


def open_change_at(changes: Sequence[OpenChange], at: datetime) -> OpenChange | None:
    """The change whose window contains `at`, the earliest-starting first (then by number)."""
    open_then = sorted((c for c in changes if c.start <= at < c.end), key=lambda c: (c.start, c.number))
    return open_then[0] if open_then else None


def change_for_deployment(changes: Sequence[OpenChange], at: datetime) -> OpenChange | None:
    """The change a pipeline's deployment at `at` is recorded under when it names none: the one
    the gate would name for its service then. A standard change from a template that is already
    implementing follows its own deployment, so it takes no other one."""
    return open_change_at([c for c in changes if not (c.template_id and c.status == "implementing")], at)
