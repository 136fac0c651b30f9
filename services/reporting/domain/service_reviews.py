"""Service reviews (ISO/IEC 20000-1 8.3.3) as pure rules: a review meeting's record, its actions'
lifecycle and the new requirements it raised (each may name the change raised for it). No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from shared.errors import InvalidTransition, RuleViolation

CHANGE_NUMBER = re.compile(r"^CHG[0-9]{7}$")

ACTION_MOVES: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", "done", "cancelled"}),
    "in_progress": frozenset({"done", "cancelled"}),
    "done": frozenset(),
    "cancelled": frozenset(),
}
"""An action's lifecycle: status -> the statuses it may move to."""


@dataclass(frozen=True)
class ReviewAction:
    text: str
    owner: str
    due: date
    status: str = "open"

    def moved(self, status: str, index: int) -> ReviewAction:
        if status not in ACTION_MOVES[self.status]:
            raise InvalidTransition(f"move action {index} to {status}", self.status, sorted(ACTION_MOVES[self.status]))
        return replace(self, status=status)


@dataclass(frozen=True)
class Requirement:
    text: str
    change_number: str | None = None
    """The change raised to meet it (its number in the change service), when one was."""


@dataclass(frozen=True)
class ServiceReview:
    id: UUID
    title: str
    customer_id: UUID | None
    held_on: date
    attendees: tuple[str, ...]
    report_run_ids: tuple[UUID, ...]
    feedback: str
    requirements: tuple[Requirement, ...]
    actions: tuple[ReviewAction, ...]
    recorded_by: str
    recorded_at: datetime
    updated_at: datetime
    version: int = 1

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not self.title.strip():
            errors.append(("title", "a review needs a title"))
        if not self.attendees:
            errors.append(("attendees", "a review records who attended"))
        if len(set(self.report_run_ids)) != len(self.report_run_ids):
            errors.append(("report_run_ids", "a report run is listed once"))
        for index, requirement in enumerate(self.requirements):
            if requirement.change_number is not None and not CHANGE_NUMBER.match(requirement.change_number):
                errors.append((f"requirements.{index}.change_number", "a change number is CHG and seven digits"))
        for index, action in enumerate(self.actions):
            if action.status not in ACTION_MOVES:
                errors.append((f"actions.{index}.status", f"one of {', '.join(ACTION_MOVES)}"))
            if not action.owner.strip():
                errors.append((f"actions.{index}.owner", "an action has an owner"))
        if errors:
            raise RuleViolation.of_fields(errors)

    def action_moved(self, index: int, status: str, now: datetime) -> ServiceReview:
        return replace(
            self, actions=moved_action(self.actions, index, status), updated_at=now, version=self.version + 1
        )

    def change_linked(self, index: int, change_number: str, now: datetime) -> ServiceReview:
        """The change raised for a requirement."""
        if not 0 <= index < len(self.requirements):
            raise RuleViolation(f"the review has {len(self.requirements)} requirements", field="index")
        requirements = list(self.requirements)
        requirements[index] = replace(requirements[index], change_number=change_number)
        return replace(self, requirements=tuple(requirements), updated_at=now, version=self.version + 1)


def moved_action(actions: tuple[ReviewAction, ...], index: int, status: str) -> tuple[ReviewAction, ...]:
    """A review's actions with one moved along the action lifecycle (also a management review's)."""
    if not 0 <= index < len(actions):
        raise RuleViolation(f"the review has {len(actions)} actions", field="index")
    moved = list(actions)
    moved[index] = moved[index].moved(status, index)
    return tuple(moved)


def as_json(review: ServiceReview) -> dict[str, Any]:
    """The JSON parts as stored."""
    return {
        "attendees": list(review.attendees),
        "report_run_ids": [str(r) for r in review.report_run_ids],
        "requirements": [{"text": r.text, "change_number": r.change_number} for r in review.requirements],
        "actions": [action_json(a) for a in review.actions],
    }


def of_json(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "attendees": tuple(values["attendees"]),
        "report_run_ids": tuple(UUID(r) for r in values["report_run_ids"]),
        "requirements": tuple(Requirement(**r) for r in values["requirements"]),
        "actions": tuple(action_of(a) for a in values["actions"]),
    }


def action_json(action: ReviewAction) -> dict[str, Any]:
    """An action as stored (also a management review's, an audit finding's corrective action)."""
    return {"text": action.text, "owner": action.owner, "due": action.due.isoformat(), "status": action.status}


def action_of(values: dict[str, Any]) -> ReviewAction:
    return ReviewAction(values["text"], values["owner"], date.fromisoformat(values["due"]), values["status"])
