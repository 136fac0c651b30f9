"""The shaping of SQL aggregates into report rows: folding groups that show as one key, rounding,
null when there is nothing to divide by, the hot spots' order and cut."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.reporting.domain.report_rows import changes_rows, hotspots_rows, incidents_rows, requests_rows

NOW = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)


def incident_group(group: str | None, **figures: Any) -> dict[str, Any]:
    zero = dict.fromkeys(
        ("opened", "resolved", "resolve_s", "backlog", "backlog_age_s", "responded", "response_s", "major"), 0
    )
    empty = {"reassignments": 0, "backlog_oldest_opened_at": None}
    return {"service_id": None, "assignment_group": group} | empty | zero | figures


def test_groups_sql_keeps_apart_but_the_report_shows_as_one_are_folded() -> None:
    groups = [
        incident_group(None, opened=2, backlog=2, backlog_age_s=7200.0, backlog_oldest_opened_at=NOW - 3 * H),
        incident_group("", opened=1, backlog=1, backlog_age_s=18000.0, backlog_oldest_opened_at=NOW - 5 * H),
        incident_group("ops", opened=1, resolved=1, resolve_s=5400.0, responded=1, response_s=90.0, major=1),
        incident_group("net", opened=1, major=1),
    ]
    rows, totals = incidents_rows(groups, ["INC2", "INC1"], {}, NOW)
    assert [(r["service_id"], r["assignment_group"], r["opened"], r["backlog"]) for r in rows] == [
        ("", "", 3, 3),
        ("", "net", 1, 0),
        ("", "ops", 1, 0),
    ]
    assert (rows[0]["backlog_avg_age_hours"], rows[0]["backlog_oldest_age_hours"]) == (2.33, 5.0)
    assert (rows[0]["mtta_minutes"], rows[0]["mttr_hours"]) == (None, None)  # nothing to divide by
    assert (rows[2]["mtta_minutes"], rows[2]["mttr_hours"]) == (1.5, 1.5)
    assert (totals["opened"], totals["backlog_oldest_age_hours"], totals["major_incidents"]) == (5, 5.0, 2)
    assert totals["major_incident_numbers"] == ["INC1", "INC2"]


def test_the_longest_fulfilment_is_the_greatest_of_the_folded_groups() -> None:
    def group(item: str | None, submitted: int, fulfilled: int, seconds: float, met: int) -> dict[str, Any]:
        figures = {"submitted": submitted, "fulfilled": fulfilled, "fulfilment_s": seconds, "met": met}
        longest = {"max_fulfilment_s": seconds if fulfilled else None}
        return {"service_id": None, "catalogue_item": item, "open": 0, "rejected": 0, "cancelled": 0, "measured": 1} | (
            figures | longest
        )

    groups = [group(None, 1, 1, 3600.0, 1), group("", 2, 1, 9000.0, 0), group("x", 1, 0, 0.0, 0)]
    rows, totals = requests_rows(groups)
    assert [
        (r["catalogue_item"], r["submitted"], r["avg_fulfilment_hours"], r["max_fulfilment_hours"]) for r in rows
    ] == [
        ("", 3, 1.75, 2.5),
        ("x", 1, None, None),
    ]
    assert (totals["max_fulfilment_hours"], totals["fulfilment_compliance_pct"]) == (2.5, 33.33)


def test_the_emergency_ratio_counts_the_emergency_changes_of_every_group() -> None:
    zero = {"implemented": 0, "failed": 0, "backed_out": 0, "incidents_caused": 0}
    rows, totals = changes_rows(
        [zero | {"type": "emergency", "changes": 1, "failed": 1}, zero | {"type": None, "changes": 3, "implemented": 2}]
    )
    assert [(r["type"], r["success_rate_pct"]) for r in rows] == [("", 100.0), ("emergency", 0.0)]
    assert (totals["emergency_changes"], totals["emergency_ratio_pct"], totals["success_rate_pct"]) == (1, 25.0, 66.67)


def test_hot_spots_go_most_first_then_by_name_or_id_and_stop_at_the_limit() -> None:
    def ci(ci_id: str, incidents: int) -> dict[str, Any]:
        figures = {"open": 0, "major": 0, "problems": 0, "recurring": 0, "last_opened_at": NOW, "service_id": None}
        return {"ci_id": ci_id, "incidents": incidents} | figures

    names = {"b": "alpha", "c": "beta"}
    rows, totals = hotspots_rows([ci("c", 2), ci("a", 2), ci("b", 2), ci("d", 5)], {"cis": 4}, names, limit=3)
    assert [r["ci_id"] for r in rows] == ["d", "a", "b"]  # "a" has no name: its id sorts before "alpha"
    assert totals == {"cis": 4}
