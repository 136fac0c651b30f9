"""Service review records as pure rules: what a review must hold, its actions' lifecycle, the change
linked to a requirement, and the stored JSON form read back."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.reporting.domain.service_reviews import (
    ACTION_MOVES,
    Requirement,
    ReviewAction,
    ServiceReview,
    as_json,
    of_json,
)
from shared.errors import InvalidTransition, RuleViolation

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)
RUN = uuid.uuid4()


def review(**changes: object) -> ServiceReview:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "title": "Quarterly",
        "customer_id": None,
        "held_on": date(2026, 12, 1),
        "attendees": ("sally",),
        "report_run_ids": (RUN,),
        "feedback": "",
        "requirements": (Requirement("More hours"),),
        "actions": (ReviewAction("Draft SLA v2", "sally", date(2027, 1, 15)),),
        "recorded_by": "sally",
        "recorded_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return ServiceReview(**values)  # type: ignore[arg-type]


def fields(exc: pytest.ExceptionInfo[RuleViolation]) -> list[str]:
    return [e["field"] for e in exc.value.extensions.get("errors", [])] or [exc.value.extensions.get("field", "")]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " "}, "title"),
        ({"attendees": ()}, "attendees"),
        ({"report_run_ids": (RUN, RUN)}, "report_run_ids"),
        ({"requirements": (Requirement("x", "CHG12"),)}, "requirements.0.change_number"),
        ({"actions": (ReviewAction("x", "o", date(2027, 1, 1), "later"),)}, "actions.0.status"),
        ({"actions": (ReviewAction("x", " ", date(2027, 1, 1)),)}, "actions.0.owner"),
    ],
)
def test_a_review_refuses_what_makes_no_record(changes: dict[str, object], field: str) -> None:
    with pytest.raises(RuleViolation) as exc:
        review(**changes)
    assert fields(exc) == [field]


def test_an_action_moves_along_its_lifecycle_only() -> None:
    assert {
        "open": {"in_progress", "done", "cancelled"},
        "in_progress": {"done", "cancelled"},
        "done": set(),
        "cancelled": set(),
    } == ACTION_MOVES
    later = NOW + timedelta(days=1)
    started = review().action_moved(0, "in_progress", later)
    assert (started.actions[0].status, started.version, started.updated_at) == ("in_progress", 2, later)
    done = started.action_moved(0, "done", later)
    assert done.actions[0].status == "done" and done.version == 3
    with pytest.raises(InvalidTransition):
        done.action_moved(0, "open", later)
    with pytest.raises(RuleViolation) as exc:
        done.action_moved(1, "done", later)
    assert fields(exc) == ["index"]
    with pytest.raises(RuleViolation):
        done.action_moved(-1, "done", later)


def test_a_requirement_links_the_change_raised_for_it() -> None:
    linked = review().change_linked(0, "CHG0000042", NOW)
    assert linked.requirements == (Requirement("More hours", "CHG0000042"),) and linked.version == 2
    with pytest.raises(RuleViolation):
        review().change_linked(1, "CHG0000042", NOW)
    with pytest.raises(RuleViolation):
        review().change_linked(-1, "CHG0000042", NOW)


def test_the_stored_form_reads_back() -> None:
    original = review(requirements=(Requirement("a", "CHG0000001"), Requirement("b")))
    stored = as_json(original)
    assert stored["actions"] == [{"text": "Draft SLA v2", "owner": "sally", "due": "2027-01-15", "status": "open"}]
    assert stored["report_run_ids"] == [str(RUN)]
    back = of_json(stored)
    assert back["requirements"] == original.requirements and back["actions"] == original.actions
    assert back["report_run_ids"] == original.report_run_ids and back["attendees"] == original.attendees
