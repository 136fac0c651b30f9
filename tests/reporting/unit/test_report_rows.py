"""The rows and totals of the reports the store aggregates in SQL: every column of each report,
computed from the groups the store hands over (counts, sums of seconds, extremes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.reporting.domain.report_rows import (
    BREACH_METRICS,
    changes_rows,
    cmdb_rows,
    hotspots_rows,
    incidents_rows,
    problems_rows,
    requests_rows,
    service_levels_rows,
    suppliers_rows,
    workload_rows,
)

NOW = datetime(2026, 11, 2, tzinfo=UTC)
H = timedelta(hours=1)
NAMES = {"s1": "Shop", "s2": "Payments", "ci1": "db01"}


def sl_group(period: str, service: str | None, priority: int, **figures: int) -> dict[str, Any]:
    zero = dict.fromkeys(("incidents", "response_measured", "response_met", "resolution_measured", "resolution_met"), 0)
    return {"period": period, "service_id": service, "priority": priority} | zero | figures


def test_service_levels_give_compliance_and_breaches_per_period_service_and_priority() -> None:
    groups = [
        sl_group(
            "2026-10-01",
            "s1",
            2,
            incidents=4,
            response_measured=4,
            response_met=3,
            resolution_measured=3,
            resolution_met=1,
        ),
        sl_group("2026-09-01", None, 1, incidents=1),
        sl_group(
            "2026-10-01",
            "s1",
            1,
            incidents=2,
            response_measured=2,
            response_met=2,
            resolution_measured=2,
            resolution_met=2,
        ),
    ]
    rows, totals = service_levels_rows(groups, NAMES)
    assert rows == [
        {
            "period": "2026-09-01",
            "service_id": "",
            "service_name": "",
            "priority": 1,
            "incidents": 1,
            "response_measured": 0,
            "response_met": 0,
            "response_compliance_pct": None,
            "resolution_measured": 0,
            "resolution_met": 0,
            "resolution_compliance_pct": None,
            "breaches": 0,
        },
        {
            "period": "2026-10-01",
            "service_id": "s1",
            "service_name": "Shop",
            "priority": 1,
            "incidents": 2,
            "response_measured": 2,
            "response_met": 2,
            "response_compliance_pct": 100.0,
            "resolution_measured": 2,
            "resolution_met": 2,
            "resolution_compliance_pct": 100.0,
            "breaches": 0,
        },
        {
            "period": "2026-10-01",
            "service_id": "s1",
            "service_name": "Shop",
            "priority": 2,
            "incidents": 4,
            "response_measured": 4,
            "response_met": 3,
            "response_compliance_pct": 75.0,
            "resolution_measured": 3,
            "resolution_met": 1,
            "resolution_compliance_pct": 33.33,
            "breaches": 3,
        },
    ]
    assert totals == {
        "incidents": 7,
        "response_measured": 6,
        "response_met": 5,
        "resolution_measured": 5,
        "resolution_met": 3,
        "response_compliance_pct": 83.33,
        "resolution_compliance_pct": 60.0,
        "breaches": 3,
    }


def test_service_levels_of_nothing_are_zero_with_no_compliance() -> None:
    rows, totals = service_levels_rows([], {})
    assert rows == []
    assert (totals["incidents"], totals["breaches"], totals["response_compliance_pct"]) == (0, 0, None)


def test_service_levels_order_services_by_id_within_a_period() -> None:
    rows, _ = service_levels_rows([sl_group("p", "s2", 1), sl_group("p", "s1", 3), sl_group("p", "s1", 2)], NAMES)
    assert [(r["service_id"], r["priority"]) for r in rows] == [("s1", 2), ("s1", 3), ("s2", 1)]


def incident_group(service: str | None, group: str | None, **figures: Any) -> dict[str, Any]:
    zero = dict.fromkeys(
        (
            "opened",
            "resolved",
            "resolve_s",
            "backlog",
            "backlog_age_s",
            "responded",
            "response_s",
            "major",
            "reassignments",
        ),
        0,
    )
    return {"service_id": service, "assignment_group": group, "backlog_oldest_opened_at": None} | zero | figures


def test_an_incidents_row_has_every_figure_of_its_service_and_group() -> None:
    group = incident_group(
        "s1",
        "ops",
        opened=4,
        resolved=2,
        resolve_s=3 * 3600.0,
        backlog=2,
        backlog_age_s=5 * 3600.0,
        backlog_oldest_opened_at=NOW - 4 * H,
        responded=3,
        response_s=3 * 120.0,
        major=1,
        reassignments=5,
    )
    rows, totals = incidents_rows([group], [], NAMES, NOW)
    assert rows == [
        {
            "service_id": "s1",
            "service_name": "Shop",
            "assignment_group": "ops",
            "opened": 4,
            "resolved": 2,
            "backlog": 2,
            "backlog_avg_age_hours": 2.5,
            "backlog_oldest_age_hours": 4.0,
            "mtta_minutes": 2.0,
            "mttr_hours": 1.5,
            "major_incidents": 1,
            "reassignments": 5,
        }
    ]
    assert totals == {
        k: v for k, v in rows[0].items() if k not in ("service_id", "service_name", "assignment_group")
    } | {"major_incident_numbers": []}


def test_the_oldest_backlog_age_is_none_without_a_backlog() -> None:
    rows, totals = incidents_rows(
        [incident_group("s1", "ops", opened=1, backlog_oldest_opened_at=NOW - H)], [], NAMES, NOW
    )
    assert rows[0]["backlog_oldest_age_hours"] is None
    rows, _ = incidents_rows([incident_group("s1", "ops", opened=1, backlog=1)], [], NAMES, NOW)
    assert rows[0]["backlog_oldest_age_hours"] is None  # no opening time known
    _, totals = incidents_rows([], ["INC1"], NAMES, NOW)
    assert (totals["opened"], totals["backlog_oldest_age_hours"], totals["major_incident_numbers"]) == (
        0,
        None,
        ["INC1"],
    )


def test_incident_groups_are_folded_by_service_and_group() -> None:
    groups = [
        incident_group("s1", "ops", opened=1, reassignments=1, major=1),
        incident_group("s1", "ops", opened=2, reassignments=2),
        incident_group("s2", "ops", opened=1),
    ]
    rows, totals = incidents_rows(groups, [], NAMES, NOW)
    assert [(r["service_id"], r["opened"], r["reassignments"], r["major_incidents"]) for r in rows] == [
        ("s1", 3, 3, 1),
        ("s2", 1, 0, 0),
    ]
    assert (totals["opened"], totals["reassignments"]) == (4, 3)


def request_group(service: str | None, item: str | None, **figures: Any) -> dict[str, Any]:
    zero = dict.fromkeys(
        ("submitted", "fulfilled", "open", "rejected", "cancelled", "fulfilment_s", "measured", "met"), 0
    )
    return {"service_id": service, "catalogue_item": item, "max_fulfilment_s": None} | zero | figures


def test_a_requests_row_has_every_figure_of_its_service_and_item() -> None:
    group = request_group(
        "s1",
        "laptop",
        submitted=6,
        fulfilled=2,
        open=1,
        rejected=2,
        cancelled=1,
        fulfilment_s=3 * 3600.0,
        max_fulfilment_s=2 * 3600.0,
        measured=2,
        met=1,
    )
    rows, totals = requests_rows([group])
    assert rows == [
        {
            "service_id": "s1",
            "catalogue_item": "laptop",
            "submitted": 6,
            "fulfilled": 2,
            "open": 1,
            "rejected": 2,
            "cancelled": 1,
            "avg_fulfilment_hours": 1.5,
            "max_fulfilment_hours": 2.0,
            "fulfilment_compliance_pct": 50.0,
        }
    ]
    assert totals == {k: v for k, v in rows[0].items() if k not in ("service_id", "catalogue_item")}
    assert requests_rows([request_group("s1", "x", max_fulfilment_s=60.0)])[0][0]["max_fulfilment_hours"] is None


def problem_group(service: str | None, **figures: int) -> dict[str, Any]:
    zero = dict.fromkeys(
        ("opened", "open", "known_errors", "resolved", "resolved_by_change", "from_recurrence", "linked_incidents"), 0
    )
    return {"service_id": service} | zero | figures


def test_problems_per_service_with_the_recurring_incidents_of_each() -> None:
    groups = [
        problem_group(
            "s1",
            opened=3,
            open=1,
            known_errors=1,
            resolved=2,
            resolved_by_change=1,
            from_recurrence=1,
            linked_incidents=7,
        ),
        problem_group(None, opened=1, open=1),
        problem_group("", opened=1, linked_incidents=2),
    ]
    recurring = [
        {"service_id": "s1", "incidents": 2},
        {"service_id": "s1", "incidents": 1},
        {"service_id": "s3", "incidents": 4},
    ]
    rows, totals = problems_rows(groups, recurring)
    none = dict.fromkeys(
        ("opened", "open", "known_errors", "resolved", "resolved_by_change", "from_recurrence", "linked_incidents"), 0
    )
    assert rows == [
        {"service_id": ""} | none | {"opened": 2, "open": 1, "linked_incidents": 2, "recurring_incidents": 0},
        {
            "service_id": "s1",
            "opened": 3,
            "open": 1,
            "known_errors": 1,
            "resolved": 2,
            "resolved_by_change": 1,
            "from_recurrence": 1,
            "linked_incidents": 7,
            "recurring_incidents": 3,
        },
        {"service_id": "s3"} | none | {"recurring_incidents": 4},
    ]
    assert totals == {
        "opened": 5,
        "open": 2,
        "known_errors": 1,
        "resolved": 2,
        "resolved_by_change": 1,
        "from_recurrence": 1,
        "linked_incidents": 9,
        "recurring_incidents": 7,
    }
    assert problems_rows([], []) == ([], none | {"recurring_incidents": 0})


def test_the_cmdb_counts_cis_by_type_and_status_and_the_periods_findings_by_kind() -> None:
    groups = [
        {"type": "server", "status": "live", "cis": 3, "critical": 1, "unauthorised_changes": 2},
        {"type": "server", "status": "live", "cis": 1, "critical": 1, "unauthorised_changes": 0},
        {"type": None, "status": "planned", "cis": 1, "critical": 0, "unauthorised_changes": 0},
        {"type": "database", "status": None, "cis": 2, "critical": 2, "unauthorised_changes": 1},
    ]
    rows, totals = cmdb_rows(groups, {"unauthorised_change": 5, "cmdb_update_rejected": 2, "other": 9})
    assert rows == [
        {"type": "", "status": "planned", "cis": 1, "critical": 0, "unauthorised_changes": 0},
        {"type": "database", "status": "", "cis": 2, "critical": 2, "unauthorised_changes": 1},
        {"type": "server", "status": "live", "cis": 4, "critical": 2, "unauthorised_changes": 2},
    ]
    assert totals == {"cis": 7, "critical": 4, "unauthorised_changes": 5, "rejected_cmdb_updates": 2}
    assert cmdb_rows([], {})[1] == {"cis": 0, "critical": 0, "unauthorised_changes": 0, "rejected_cmdb_updates": 0}


def supplier_group(supplier: str, **figures: Any) -> dict[str, Any]:
    counts = ("active_contracts", "incidents", "incidents_resolved", "target_breaches", "open_disputes")
    zero = dict.fromkeys(
        (*counts, *(f"{m}_breaches" for m in BREACH_METRICS), "resolution_met", "resolution_measured"), 0
    )
    return {"supplier_id": supplier, "supplier_name": None, "status": None} | zero | figures


def test_a_supplier_scorecard_has_every_count_and_the_resolution_compliance() -> None:
    group = supplier_group(
        "sup-b",
        supplier_name="Acme",
        status="active",
        active_contracts=2,
        incidents=5,
        incidents_resolved=4,
        resolution_met=3,
        resolution_measured=4,
        target_breaches=6,
        response_breaches=1,
        resolution_breaches=2,
        availability_breaches=1,
        change_success_breaches=2,
        open_disputes=1,
    )
    rows, totals = suppliers_rows([group, supplier_group("sup-a", incidents=1, target_breaches=1, open_disputes=2)])
    assert rows == [
        {
            "supplier_id": "sup-a",
            "supplier_name": "",
            "status": "",
            "active_contracts": 0,
            "incidents": 1,
            "incidents_resolved": 0,
            "resolution_compliance_pct": None,
            "target_breaches": 1,
            "response_breaches": 0,
            "resolution_breaches": 0,
            "availability_breaches": 0,
            "change_success_breaches": 0,
            "open_disputes": 2,
        },
        {
            "supplier_id": "sup-b",
            "supplier_name": "Acme",
            "status": "active",
            "active_contracts": 2,
            "incidents": 5,
            "incidents_resolved": 4,
            "resolution_compliance_pct": 75.0,
            "target_breaches": 6,
            "response_breaches": 1,
            "resolution_breaches": 2,
            "availability_breaches": 1,
            "change_success_breaches": 2,
            "open_disputes": 1,
        },
    ]
    assert totals == {"suppliers": 2, "incidents": 6, "target_breaches": 7, "open_disputes": 3}


def test_workload_adds_incidents_and_requests_per_period_and_group() -> None:
    incidents = [
        {
            "period": "2026-10-02",
            "assignment_group": "ops",
            "opened": 3,
            "resolved": 2,
            "reassignments": 1,
            "escalations": 1,
        },
        {
            "period": "2026-10-02",
            "assignment_group": "ops",
            "opened": 1,
            "resolved": 1,
            "reassignments": 2,
            "escalations": 0,
        },
        {
            "period": "2026-10-01",
            "assignment_group": None,
            "opened": 1,
            "resolved": 0,
            "reassignments": 0,
            "escalations": 3,
        },
    ]
    requests = [
        {"period": "2026-10-02", "assignment_group": "ops", "submitted": 5, "fulfilled": 4},
        {"period": "2026-10-03", "assignment_group": "desk", "submitted": 2, "fulfilled": 1},
    ]
    rows, totals = workload_rows(incidents, requests)
    zero = dict.fromkeys(
        (
            "incidents_opened",
            "incidents_resolved",
            "requests_submitted",
            "requests_fulfilled",
            "reassignments",
            "escalations",
        ),
        0,
    )
    assert rows == [
        {"period": "2026-10-01", "assignment_group": ""} | zero | {"incidents_opened": 1, "escalations": 3},
        {
            "period": "2026-10-02",
            "assignment_group": "ops",
            "incidents_opened": 4,
            "incidents_resolved": 3,
            "requests_submitted": 5,
            "requests_fulfilled": 4,
            "reassignments": 3,
            "escalations": 1,
        },
        {"period": "2026-10-03", "assignment_group": "desk"}
        | zero
        | {"requests_submitted": 2, "requests_fulfilled": 1},
    ]
    assert totals == {
        "incidents_opened": 5,
        "incidents_resolved": 3,
        "requests_submitted": 7,
        "requests_fulfilled": 5,
        "reassignments": 3,
        "escalations": 4,
    }
    assert workload_rows([], []) == ([], {})


def test_a_hot_spot_row_has_the_cis_name_its_latest_service_and_every_count() -> None:
    ci = {
        "ci_id": "ci1",
        "service_id": "s2",
        "incidents": 4,
        "open": 1,
        "major": 1,
        "problems": 2,
        "recurring": 3,
        "last_opened_at": NOW,
    }
    rows, totals = hotspots_rows([ci, ci | {"ci_id": "ci9", "service_id": None, "incidents": 1}], {"cis": 2}, NAMES)
    assert rows == [
        {
            "ci_id": "ci1",
            "ci_name": "db01",
            "service_id": "s2",
            "service_name": "Payments",
            "incidents": 4,
            "open": 1,
            "major": 1,
            "problems": 2,
            "recurring": 3,
            "last_opened_at": NOW.isoformat(),
        },
        {
            "ci_id": "ci9",
            "ci_name": "",
            "service_id": "",
            "service_name": "",
            "incidents": 1,
            "open": 1,
            "major": 1,
            "problems": 2,
            "recurring": 3,
            "last_opened_at": NOW.isoformat(),
        },
    ]
    assert totals == {"cis": 2}


def test_hot_spots_keep_fifty_rows_unless_told_otherwise() -> None:
    cis = [
        {
            "ci_id": f"ci{n:03d}",
            "service_id": None,
            "incidents": n,
            "open": 0,
            "major": 0,
            "problems": 0,
            "recurring": 0,
            "last_opened_at": NOW,
        }
        for n in range(1, 61)
    ]
    rows, _ = hotspots_rows(cis, {}, {})
    assert [r["incidents"] for r in rows] == list(range(60, 10, -1))


def test_a_changes_row_has_every_figure_of_its_type_and_no_emergency_change_is_a_ratio_of_zero() -> None:
    rows, totals = changes_rows(
        [{"type": "normal", "changes": 5, "implemented": 3, "failed": 1, "backed_out": 1, "incidents_caused": 2}]
    )
    figures = {
        "changes": 5,
        "implemented": 3,
        "failed": 1,
        "backed_out": 1,
        "success_rate_pct": 75.0,
        "incidents_caused": 2,
    }
    assert rows == [{"type": "normal"} | figures]
    assert totals == figures | {"emergency_changes": 0, "emergency_ratio_pct": 0.0}


def test_incident_hours_and_minutes_are_means_in_whole_hours_kept_to_two_decimals() -> None:
    group = incident_group(
        "s9",
        "ops",
        opened=2,
        resolved=1,
        resolve_s=100 * 3600.0,
        backlog=1,
        backlog_age_s=100 * 3600.0,
        backlog_oldest_opened_at=NOW - 4 * H - timedelta(seconds=20),
    )
    [row], _ = incidents_rows([group], [], NAMES, NOW)
    assert (row["mttr_hours"], row["backlog_avg_age_hours"], row["backlog_oldest_age_hours"]) == (100.0, 100.0, 4.01)
    assert row["service_name"] == ""  # a service the CMDB does not name


def test_request_hours_are_whole_hours_kept_to_two_decimals() -> None:
    group = request_group(
        "s1", "x", submitted=1, fulfilled=1, fulfilment_s=100 * 3600.0, max_fulfilment_s=100 * 3600.0 + 20
    )
    [row], _ = requests_rows([group])
    assert (row["avg_fulfilment_hours"], row["max_fulfilment_hours"]) == (100.0, 100.01)


def test_hot_spots_with_as_many_incidents_go_by_name_before_id() -> None:
    def ci(ci_id: str) -> dict[str, Any]:
        figures = {"open": 0, "major": 0, "problems": 0, "recurring": 0, "last_opened_at": NOW, "service_id": None}
        return {"ci_id": ci_id, "incidents": 2} | figures

    rows, _ = hotspots_rows([ci("a"), ci("b")], {}, {"a": "zeta", "b": "alpha"})
    assert [r["ci_id"] for r in rows] == ["b", "a"]


def test_workload_adds_request_groups_that_share_a_period_and_group() -> None:
    requests = [
        {"period": "p", "assignment_group": "ops", "submitted": 2, "fulfilled": 1},
        {"period": "p", "assignment_group": "ops", "submitted": 3, "fulfilled": 2},
    ]
    [row], _ = workload_rows([], requests)
    assert (row["requests_submitted"], row["requests_fulfilled"]) == (5, 3)
