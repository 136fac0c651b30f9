"""Management reviews (ISO/IEC 20000-1 4.5.4.3) as pure rules: a review's inputs are stored report
runs, each cited with the figures it showed (its totals and content hash, copied when the review
is recorded), the internal audits it went through and the improvement register as it stood; its
outputs are decisions and actions (the service reviews' action lifecycle). No I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from services.reporting.domain.service_reviews import ReviewAction, moved_action
from shared.errors import RuleViolation


@dataclass(frozen=True)
class RunInput:
    """A stored report run the review went through, and the figures it showed."""

    run_id: UUID
    report: str
    period_start: datetime
    period_end: datetime
    content_sha256: str | None
    totals: dict[str, Any]


@dataclass(frozen=True)
class ManagementReview:
    id: UUID
    title: str
    held_on: date
    chair: str
    attendees: tuple[str, ...]
    inputs: tuple[RunInput, ...]
    audit_ids: tuple[UUID, ...]
    improvements_by_status: dict[str, int]
    """The improvement register's entries per status when the review was recorded."""
    conclusions: str
    decisions: tuple[str, ...]
    actions: tuple[ReviewAction, ...]
    recorded_by: str
    recorded_at: datetime
    updated_at: datetime
    version: int = 1

    def __post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not self.title.strip():
            errors.append(("title", "a review needs a title"))
        if not self.chair.strip():
            errors.append(("chair", "top management chairs the review"))
        if not self.inputs:
            errors.append(("report_run_ids", "a management review goes through the service reports"))
        if len({i.run_id for i in self.inputs}) != len(self.inputs):
            errors.append(("report_run_ids", "a report run is listed once"))
        if len(set(self.audit_ids)) != len(self.audit_ids):
            errors.append(("audit_ids", "an audit is listed once"))
        for index, action in enumerate(self.actions):
            if not action.owner.strip():
                errors.append((f"actions.{index}.owner", "an action has an owner"))
        if errors:
            raise RuleViolation.of_fields(errors)

    def action_moved(self, index: int, status: str, now: datetime) -> ManagementReview:
        return replace(
            self, actions=moved_action(self.actions, index, status), updated_at=now, version=self.version + 1
        )


def inputs_json(inputs: tuple[RunInput, ...]) -> list[dict[str, Any]]:
    return [
        {
            "run_id": str(i.run_id),
            "report": i.report,
            "period_start": i.period_start.isoformat(),
            "period_end": i.period_end.isoformat(),
            "content_sha256": i.content_sha256,
            "totals": i.totals,
        }
        for i in inputs
    ]


def inputs_of(values: list[dict[str, Any]]) -> tuple[RunInput, ...]:
    return tuple(
        RunInput(
            UUID(v["run_id"]),
            v["report"],
            datetime.fromisoformat(v["period_start"]),
            datetime.fromisoformat(v["period_end"]),
            v["content_sha256"],
            v["totals"],
        )
        for v in values
    )
