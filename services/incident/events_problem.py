"""What problem management publishes: its domain events turned into the published contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from services.incident.domain_problem import Problem, ProblemAction, ProblemChanged, ProblemOpened
from shared.events import EventData
from shared.events import incident as contracts


def to_contract(event: ProblemOpened | ProblemChanged, problem: Problem) -> EventData:
    common: dict[str, Any] = {
        "problem_id": problem.id,
        "number": problem.number,
        "title": problem.title,
        "status": problem.status.value,
        "ci_id": problem.ci_id,
        "service_id": problem.service_id,
        "category": problem.category,
        "incident_ids": list(problem.incident_ids),
        "actor": event.actor,
        "occurred_at": problem.updated_at,
    }
    if isinstance(event, ProblemOpened):
        return contracts.ProblemCreated(**common, origin=problem.origin.value)
    common["status"] = event.status.value
    if event.action is ProblemAction.PUBLISH_KNOWN_ERROR:
        assert problem.known_error_id is not None
        return contracts.KnownErrorPublished(
            **common,
            known_error_id=problem.known_error_id,
            root_cause=problem.root_cause,
            workaround=problem.workaround,
        )
    if event.action is ProblemAction.RESOLVE:
        return contracts.ProblemResolved(**common, change_id=problem.change_id, resolution=problem.resolution)
    if event.action is ProblemAction.CLOSE:
        return contracts.ProblemClosed(**common)
    return contracts.ProblemUpdated(
        **common,
        changes={k: list(v) for k, v in event.changes.items()},
        added_incident_ids=list(event.added_incident_ids),
        change_id=problem.change_id,
    )


def linked_to_problem(
    *,
    incident_id: UUID,
    incident_number: str,
    problem: Problem,
    reason: Literal["recurrence", "known_error", "manual"],
    workaround: str | None,
    now: datetime,
) -> contracts.IncidentLinkedToProblem:
    return contracts.IncidentLinkedToProblem(
        incident_id=incident_id,
        incident_number=incident_number,
        problem_id=problem.id,
        problem_number=problem.number,
        reason=reason,
        known_error=reason == "known_error",
        workaround=workaround,
        occurred_at=now,
    )
