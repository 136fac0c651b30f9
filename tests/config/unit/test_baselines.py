"""Comparing two baselines (sets of CI snapshots by CI id): added, removed, changed, unchanged."""

from __future__ import annotations

from typing import Any

from services.config.domain.baselines import Changed, compare


def snap(ci_id: str, name: str, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": ci_id,
        "number": f"CI-{ci_id}",
        "name": name,
        "status": "live",
        "attributes": {"cpu_cores": 4},
        "version": 1,
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
    }
    values.update(fields)
    return values


def test_cis_only_after_are_added_and_only_before_are_removed_in_id_order() -> None:
    before = {"b": snap("b", "beta"), "d": snap("d", "delta"), "a": snap("a", "alpha")}
    after = {"e": snap("e", "echo"), "c": snap("c", "charlie"), "a": snap("a", "alpha")}
    result = compare(before, after)
    assert [s["id"] for s in result.added] == ["c", "e"]
    assert [s["id"] for s in result.removed] == ["b", "d"]
    assert result.changed == []
    assert result.unchanged == 1


def test_a_changed_ci_shows_what_moved_under_its_new_number_and_name() -> None:
    before = {"a": snap("a", "alpha", status="live")}
    after = {"a": snap("a", "alpha-2", number="CI-A2", status="maintenance", attributes={"cpu_cores": 8})}
    assert compare(before, after).changed == [
        Changed(
            "a",
            "CI-A2",
            "alpha-2",
            {
                "attributes.cpu_cores": {"old": 4, "new": 8},
                "name": {"old": "alpha", "new": "alpha-2"},
                "number": {"old": "CI-a", "new": "CI-A2"},
                "status": {"old": "live", "new": "maintenance"},
            },
        )
    ]


def test_new_versions_of_the_same_configuration_are_unchanged() -> None:
    before = {"a": snap("a", "alpha"), "b": snap("b", "beta")}
    after = {
        "a": snap("a", "alpha", version=5, updated_at="2026-06-01T00:00:00+00:00"),
        "b": snap("b", "beta", created_at="2026-03-01T00:00:00+00:00"),  # re-created: a new row, same configuration
    }
    result = compare(before, after)
    assert (result.changed, result.unchanged, result.added, result.removed) == ([], 2, [], [])


def test_changed_cis_come_in_id_order_and_are_not_counted_unchanged() -> None:
    before = {"z": snap("z", "zulu"), "m": snap("m", "mike"), "k": snap("k", "kilo")}
    after = {"z": snap("z", "zulu!"), "m": snap("m", "mike!"), "k": snap("k", "kilo")}
    result = compare(before, after)
    assert [c.ci_id for c in result.changed] == ["m", "z"]
    assert result.unchanged == 1


def test_an_attribute_called_version_is_compared_like_any_other() -> None:
    before = {"a": snap("a", "alpha", attributes={"version": "1.0"})}
    after = {"a": snap("a", "alpha", attributes={"version": "2.0"})}
    [changed] = compare(before, after).changed
    assert changed.changes == {"attributes.version": {"old": "1.0", "new": "2.0"}}
