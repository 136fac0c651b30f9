"""Drafting a request for change: pure domain rules, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.change.domain.changes import Change, ChangeDrafted, ChangeStatus, ChangeType
from shared.errors import RuleViolation

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
START = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)


def draft(**overrides: Any) -> Change:
    values: dict[str, Any] = {
        "change_id": uuid4(),
        "number": "CHG0000001",
        "title": "Patch the mail servers",
        "description": "",
        "justification": "",
        "change_type": ChangeType.NORMAL,
        "category": None,
        "requester": "alice",
        "planned_start": None,
        "planned_end": None,
        "affected_ci_ids": (),
        "now": NOW,
    }
    values.update(overrides)
    return Change.draft(**values)


def violated_field(exc: pytest.ExceptionInfo[RuleViolation]) -> str:
    return str(exc.value.extensions["errors"][0]["field"])


def test_a_change_starts_in_draft_at_version_1_and_records_one_event() -> None:
    change_id = uuid4()
    change = draft(change_id=change_id, title="  Patch the mail servers  ")
    assert change.status is ChangeStatus.DRAFT
    assert change.version == 1
    assert change.title == "Patch the mail servers"
    assert change.created_at == change.updated_at == NOW
    assert change.pending_events == [ChangeDrafted(change_id)]


def test_affected_cis_are_kept_once_each_in_a_stable_order() -> None:
    a, b = UUID(int=1), UUID(int=2)
    assert draft(affected_ci_ids=[b, a, b]).affected_ci_ids == (a, b)


def test_a_blank_title_is_refused() -> None:
    with pytest.raises(RuleViolation) as exc:
        draft(title="   ")
    assert violated_field(exc) == "title"


@pytest.mark.parametrize("end", [START, START - timedelta(minutes=1)])
def test_the_planned_end_must_come_after_the_planned_start(end: datetime) -> None:
    with pytest.raises(RuleViolation) as exc:
        draft(planned_start=START, planned_end=end)
    assert violated_field(exc) == "planned_end"


def test_the_window_is_compared_as_instants_whatever_the_offsets() -> None:
    # 23:30 at +02:00 is 21:30 UTC: before the 22:00 UTC start, although it reads later.
    with pytest.raises(RuleViolation):
        draft(planned_start=START, planned_end=datetime(2026, 12, 1, 23, 30, tzinfo=timezone(timedelta(hours=2))))


def test_planned_times_are_kept_in_utc() -> None:
    local = datetime(2026, 12, 2, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    change = draft(planned_start=START, planned_end=local)
    assert change.planned_end == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    assert change.planned_end.tzinfo is UTC


@pytest.mark.parametrize("field", ["planned_start", "planned_end"])
def test_a_planned_time_without_a_time_zone_is_refused(field: str) -> None:
    with pytest.raises(RuleViolation) as exc:
        draft(**{field: datetime(2026, 12, 1, 22, 0)})
    assert violated_field(exc) == field


@pytest.mark.parametrize("field", ["planned_start", "planned_end"])
def test_either_end_of_the_window_may_be_left_open(field: str) -> None:
    assert getattr(draft(**{field: START}), field) == START


def test_an_emergency_change_needs_a_justification() -> None:
    with pytest.raises(RuleViolation) as exc:
        draft(change_type=ChangeType.EMERGENCY, justification="  ")
    assert violated_field(exc) == "justification"
    assert draft(change_type=ChangeType.EMERGENCY, justification="Mail is down").change_type is ChangeType.EMERGENCY
    assert draft(change_type=ChangeType.NORMAL, justification="").justification == ""
