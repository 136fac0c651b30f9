"""The significant-events report: one row per major incident, production deployment and emergency
change, in time order, with totals that reconcile with the other reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from services.reporting.domain.significant_events import significant_events_report

T = datetime(2026, 10, 5, 9, tzinfo=UTC)
SHOP, PAY = UUID(int=1), UUID(int=2)
CHG_A, CHG_B = UUID(int=10), UUID(int=11)
NAMES = {str(SHOP): "Shop", str(PAY): "Payments"}
NUMBERS = {str(CHG_A): "CHG0000010", str(CHG_B): "CHG0000011"}


def incident(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "number": "INC0000001",
        "service_id": SHOP,
        "opened_at": T,
        "resolved_at": T + timedelta(hours=1, minutes=30),
        "closed_at": None,
        "status": "resolved",
        "caused_by_change_id": CHG_A,
    }
    values.update(overrides)
    return values


def deployment(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "deployment_id": UUID(int=99),
        "service_id": PAY,
        "service": "payments-api",
        "started_at": T + timedelta(hours=2),
        "finished_at": T + timedelta(hours=2, minutes=15),
        "result": "succeeded",
        "change_id": CHG_B,
    }
    values.update(overrides)
    return values


def change(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "change_id": CHG_B,
        "number": "CHG0000011",
        "created_at": T + timedelta(hours=3),
        "implemented_at": T + timedelta(hours=4),
        "failed_at": None,
        "status": "implemented",
    }
    values.update(overrides)
    return values


def report(
    incidents: list[dict[str, Any]] = (),  # type: ignore[assignment]
    deployments: list[dict[str, Any]] = (),  # type: ignore[assignment]
    changes: list[dict[str, Any]] = (),  # type: ignore[assignment]
    services: dict[str, set[str]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    return significant_events_report(incidents, deployments, changes, services or {}, NUMBERS, NAMES)


def test_a_major_incident_row_has_its_duration_the_change_that_caused_it_and_its_review() -> None:
    rows, _ = report(incidents=[incident()])
    assert rows == [
        {
            "kind": "major_incident",
            "reference": "INC0000001",
            "service_id": str(SHOP),
            "service_name": "Shop",
            "started_at": T,
            "ended_at": T + timedelta(hours=1, minutes=30),
            "duration_hours": 1.5,
            "status": "resolved",
            "change_number": "CHG0000010",
            "review_status": "unknown",
        }
    ]


def test_a_major_incident_is_reviewed_once_closed() -> None:
    by_time = report(incidents=[incident(closed_at=T + timedelta(days=1))])[0][0]
    by_status = report(incidents=[incident(status="closed")])[0][0]
    assert by_time["review_status"] == by_status["review_status"] == "recorded"


def test_an_open_major_incident_without_service_or_cause_has_no_duration_name_or_change() -> None:
    [row], totals = report(
        incidents=[incident(resolved_at=None, status="in_progress", service_id=None, caused_by_change_id=None)]
    )
    assert (row["service_id"], row["service_name"], row["ended_at"], row["duration_hours"], row["change_number"]) == (
        "",
        None,
        None,
        None,
        None,
    )
    assert totals["major_incidents_unresolved"] == 1


def test_a_deployment_row_names_its_service_result_and_change() -> None:
    rows, _ = report(deployments=[deployment()])
    assert rows == [
        {
            "kind": "deployment",
            "reference": str(UUID(int=99)),
            "service_id": str(PAY),
            "service_name": "Payments",
            "started_at": T + timedelta(hours=2),
            "ended_at": T + timedelta(hours=2, minutes=15),
            "duration_hours": 0.25,
            "status": "succeeded",
            "change_number": "CHG0000011",
            "review_status": None,
        }
    ]


def test_a_deployment_on_a_service_the_cmdb_does_not_name_shows_the_name_it_was_recorded_with() -> None:
    [row], _ = report(deployments=[deployment(service_id=UUID(int=77), change_id=None, started_at=None)])
    assert (row["service_name"], row["change_number"], row["duration_hours"]) == ("payments-api", None, None)


def test_an_emergency_change_row_lists_its_services_and_ends_when_it_was_implemented_or_failed() -> None:
    rows, _ = report(changes=[change()], services={str(CHG_B): {str(SHOP), str(PAY), "other"}})
    ids = sorted([str(SHOP), str(PAY), "other"])
    assert rows == [
        {
            "kind": "emergency_change",
            "reference": "CHG0000011",
            "service_id": ", ".join(ids),
            "service_name": ", ".join(NAMES.get(s, s) for s in ids),
            "started_at": T + timedelta(hours=3),
            "ended_at": T + timedelta(hours=4),
            "duration_hours": 1.0,
            "status": "implemented",
            "change_number": None,
            "review_status": None,
        }
    ]
    failed_later = change(failed_at=T + timedelta(hours=6), status="failed")
    [row], _ = report(changes=[failed_later])
    assert (row["ended_at"], row["duration_hours"]) == (T + timedelta(hours=6), 3.0)
    [row], _ = report(changes=[change(implemented_at=None, status="approved")])
    assert (row["service_id"], row["service_name"], row["ended_at"], row["duration_hours"]) == ("", None, None, None)


def test_rows_come_in_time_order_then_by_kind_and_reference() -> None:
    rows, _ = report(
        incidents=[incident(number="INC2", opened_at=T + timedelta(hours=5)), incident(number="INC1")],
        deployments=[
            deployment(started_at=None, finished_at=T + timedelta(hours=1)),
            deployment(deployment_id=UUID(int=5), started_at=T),
        ],
        changes=[change(created_at=T, number="CHG9"), change(created_at=T, number="CHG1")],
    )
    assert [(r["kind"], r["reference"]) for r in rows] == [
        ("deployment", str(UUID(int=5))),
        ("emergency_change", "CHG1"),
        ("emergency_change", "CHG9"),
        ("major_incident", "INC1"),
        ("deployment", str(UUID(int=99))),  # not started: placed at its end
        ("major_incident", "INC2"),
    ]


def test_the_totals_count_each_kind_and_its_failures() -> None:
    _, totals = report(
        incidents=[incident(), incident(status="closed"), incident(status="in_progress"), incident(status="on_hold")],
        deployments=[deployment(), deployment(result="failed"), deployment(result="rolled_back")],
        changes=[change(), change(failed_at=T, status="failed")],
    )
    assert totals == {
        "major_incidents": 4,
        "major_incidents_unresolved": 2,
        "deployments": 3,
        "failed_deployments": 2,
        "emergency_changes": 2,
        "failed_emergency_changes": 1,
        "continuity_invocations": 0,
    }
    assert report() == ([], dict.fromkeys(totals, 0))


def test_durations_are_in_hours_kept_to_two_decimals() -> None:
    [row], _ = report(incidents=[incident(resolved_at=T + timedelta(minutes=20))])
    assert row["duration_hours"] == 0.33
    [row], _ = report(incidents=[incident(resolved_at=T + timedelta(hours=100))])
    assert row["duration_hours"] == 100.0


def test_an_event_without_a_reference_sorts_first_among_its_kind_at_the_same_time() -> None:
    rows, _ = report(changes=[change(created_at=T, number="CHG1"), change(created_at=T, number=None)])
    assert [r["reference"] for r in rows] == [None, "CHG1"]


def test_only_emergency_changes_that_failed_count_as_failed() -> None:
    _, totals = report(changes=[change(), change(), change(failed_at=T, status="failed")])
    assert (totals["emergency_changes"], totals["failed_emergency_changes"]) == (3, 1)
