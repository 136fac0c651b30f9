"""A change of potential major impact (`major`, clause 5) is published as a major change to the
service environment when implemented: config makes a re-test of the continuity plans covering its
services due (ISO/IEC 20000-1 6.3.3). A change without it says so too."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from services.change import events
from services.change.domain.changes import Action, Change, ChangeStatus, ChangeType, StatusChanged
from shared.events.change import ChangeImplemented

NOW = datetime(2026, 12, 7, 10, tzinfo=UTC)


def _implemented(*, major: bool) -> ChangeImplemented:
    item = Change.draft(
        change_id=uuid4(),
        number="CHG0000042",
        title="Move payroll to the new data centre",
        description="",
        justification="lease ends",
        change_type=ChangeType.NORMAL,
        category=None,
        requester="rita",
        planned_start=None,
        planned_end=None,
        affected_ci_ids=[uuid4()],
        now=NOW,
        major=major,
    )
    done = StatusChanged(item.id, Action.COMPLETE, ChangeStatus.IMPLEMENTING, ChangeStatus.IMPLEMENTED, "ivan")
    data = events.to_contract(done, item)
    assert isinstance(data, ChangeImplemented)
    return data


@pytest.mark.parametrize("major", [True, False])
def test_the_implemented_event_says_whether_it_was_a_major_change_to_the_environment(major: bool) -> None:
    assert _implemented(major=major).major_environment_change is major
