"""CI updates, versions, retirement and change control, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.config.domain.items import (
    Cause,
    ChangeWindow,
    CIStatus,
    ConfigItem,
    Criticality,
    Identifiers,
    ItemRetired,
    ItemUpdated,
    diff,
    require_change_for_controlled,
)
from services.config.domain.types import BUILTIN_TYPES
from shared.errors import InvalidTransition, RuleViolation

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)
SERVER = next(t for t in BUILTIN_TYPES if t.name == "server")
MANUAL = Cause("manual", "ann")


def server(**overrides: object) -> ConfigItem:
    item = ConfigItem.register(
        ci_id=uuid4(),
        number="CI0000007",
        name="db01",
        ci_type=SERVER,
        status=CIStatus.LIVE,
        criticality=Criticality.HIGH,
        owner="dba",
        attributes={"cpu_cores": 8, "os": "Debian"},
        identifiers=Identifiers(hostname="db01"),
        now=NOW,
        cause=MANUAL,
        controlled=bool(overrides.get("controlled", False)),
    )
    item.pending_events.clear()
    return item


def test_an_update_records_exactly_what_changed_and_bumps_the_version() -> None:
    item = server()
    later = NOW + timedelta(hours=1)
    changes = item.update(
        {"attributes": {"cpu_cores": 16, "os": "Debian"}, "criticality": 1}, SERVER, now=later, cause=MANUAL
    )
    assert changes == {
        "attributes.cpu_cores": {"old": 8, "new": 16},
        "criticality": {"old": 2, "new": 1},
    }
    assert item.version == 2
    assert item.updated_at == later
    assert item.pending_events == [ItemUpdated(item.id, changes, MANUAL)]


def test_an_update_that_changes_nothing_makes_no_version() -> None:
    item = server()
    assert item.update({"name": "db01", "owner": "dba"}, SERVER, now=NOW, cause=MANUAL) == {}
    assert item.version == 1
    assert item.pending_events == []


def test_an_invalid_update_leaves_the_item_as_it_was() -> None:
    item = server()
    before = item.snapshot()
    with pytest.raises(RuleViolation) as raised:
        item.update({"name": "db02", "attributes": {"cpu_cores": -1}}, SERVER, now=NOW, cause=MANUAL)
    assert raised.value.extensions["errors"][0]["field"] == "attributes.cpu_cores"
    assert item.snapshot() == before
    with pytest.raises(RuleViolation):
        item.update({"number": "CI9"}, SERVER, now=NOW, cause=MANUAL)
    with pytest.raises(RuleViolation):
        item.update({"status": "retired"}, SERVER, now=NOW, cause=MANUAL)


def test_retiring_is_final() -> None:
    item = server()
    item.retire(now=NOW, cause=MANUAL)
    assert item.status is CIStatus.RETIRED
    assert item.version == 2
    assert item.pending_events == [ItemRetired(item.id, MANUAL)]
    with pytest.raises(InvalidTransition):
        item.retire(now=NOW, cause=MANUAL)
    with pytest.raises(InvalidTransition):
        item.update({"name": "x"}, SERVER, now=NOW, cause=MANUAL)


def test_diff_reports_nested_keys_added_and_removed() -> None:
    assert diff({"a": {"x": 1, "y": 2}, "b": 1}, {"a": {"x": 1, "z": 3}, "b": 1}) == {
        "a.y": {"old": 2, "new": None},
        "a.z": {"old": None, "new": 3},
    }


def window(item_id: object, **overrides: object) -> ChangeWindow:
    values: dict[str, object] = {
        "change_id": uuid4(),
        "number": "CHG0000042",
        "status": "approved",
        "planned_start": NOW - timedelta(hours=1),
        "planned_end": NOW + timedelta(hours=1),
        "affected_ci_ids": frozenset({item_id}),
    }
    values.update(overrides)
    return ChangeWindow(**values)  # type: ignore[arg-type]


def test_an_uncontrolled_ci_needs_no_change() -> None:
    require_change_for_controlled(server(), None, None, NOW)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"status": "draft"}, "not approved"),
        ({"affected_ci_ids": frozenset({uuid4()})}, "does not list this CI"),
        ({"planned_start": NOW + timedelta(minutes=5)}, "window opens"),
        ({"planned_end": NOW - timedelta(minutes=5)}, "window closed"),
    ],
)
def test_a_controlled_ci_refuses_a_change_that_does_not_cover_it(overrides: dict[str, object], reason: str) -> None:
    item = server(controlled=True)
    with pytest.raises(RuleViolation, match=reason) as raised:
        require_change_for_controlled(item, window(item.id, **overrides), "CHG0000042", NOW)
    assert raised.value.extensions["errors"][0]["field"] == "change_number"


def test_a_controlled_ci_needs_a_known_change_and_accepts_an_open_approved_one() -> None:
    item = server(controlled=True)
    with pytest.raises(RuleViolation, match="under change control"):
        require_change_for_controlled(item, None, None, NOW)
    with pytest.raises(RuleViolation, match="not known"):
        require_change_for_controlled(item, None, "CHG0000001", NOW)
    require_change_for_controlled(item, window(item.id), "CHG0000042", NOW)
    with pytest.raises(RuleViolation, match="does not list"):  # a change authorises only the CIs it names
        require_change_for_controlled(item, window(item.id, affected_ci_ids=frozenset()), "CHG0000042", NOW)
