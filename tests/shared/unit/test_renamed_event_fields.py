"""A field renamed for one name per concept keeps its old name on the wire through v1.

`change.implemented.v1` carried the planned CI changes as `ci_changes`, while the change's API body,
domain and table call them `planned_ci_changes`. The event now carries both, with the same list."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

from shared.events.change import ChangeImplemented, PlannedCIChange

PLAN = [PlannedCIChange(action="update", ci_id=uuid4(), attributes={"version": "2"})]


def _event(**plan: list[PlannedCIChange]) -> ChangeImplemented:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    return ChangeImplemented(change_id=uuid4(), number="CHG0000001", implemented_at=at, implemented_by="c", **plan)


def test_a_new_event_sends_the_plan_under_both_names() -> None:
    wire = json.loads(_event(planned_ci_changes=PLAN).model_dump_json())
    assert wire["planned_ci_changes"] == wire["ci_changes"]
    assert [c["ci_id"] for c in wire["planned_ci_changes"]] == [str(PLAN[0].ci_id)]


def test_an_event_from_an_older_producer_reads_under_the_new_name() -> None:
    old_wire = json.loads(_event(planned_ci_changes=PLAN).model_dump_json())
    del old_wire["planned_ci_changes"]
    assert ChangeImplemented.model_validate(old_wire).planned_ci_changes == PLAN


def test_the_old_name_is_marked_deprecated_in_the_schema() -> None:
    properties = ChangeImplemented.model_json_schema(mode="serialization")["properties"]
    assert properties["ci_changes"].get("deprecated") is True
    assert "deprecated" not in properties["planned_ci_changes"]
