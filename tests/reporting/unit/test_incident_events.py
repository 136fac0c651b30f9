"""What the incident service's events set in the fact tables: incidents (responses, reassignments,
escalations, reopenings, major, resolution with its SLA results), breach notices, requests,
problems and the links to problems and changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.reporting.domain import incident_events as rules
from services.reporting.domain.facts import CHANGE_INCIDENTS, INCIDENTS, PROBLEMS, REQUESTS
from shared.events.incident import (
    IncidentAssigned,
    IncidentClosed,
    IncidentCreated,
    IncidentEscalated,
    IncidentLinkedToChange,
    IncidentLinkedToProblem,
    IncidentMajorDeclared,
    IncidentPriorityChanged,
    IncidentReopened,
    IncidentResolved,
    IncidentStatusChanged,
    ProblemClosed,
    ProblemCreated,
    ProblemKnownErrorPublished,
    ProblemResolved,
    ProblemUpdated,
    RequestClosed,
    RequestFulfilled,
    RequestSubmitted,
    SlaBreached,
    SlaResult,
)

T = datetime(2026, 10, 5, 9, tzinfo=UTC)
LATER = T + timedelta(hours=5)
INC, SERVICE, CI, SUPPLIER = UUID(int=1), UUID(int=2), UUID(int=3), UUID(int=4)
REQ, PRB, CHG = UUID(int=5), UUID(int=6), UUID(int=7)

STATE = {
    "incident_id": INC,
    "number": "INC0000001",
    "status": "in_progress",
    "priority": 2,
    "service_id": SERVICE,
    "ci_id": CI,
    "category": "network",
    "assignment_group": "ops",
    "supplier_id": SUPPLIER,
    "major": None,
}


def later(cls: type, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "incident_id": INC,
        "number": "INC0000001",
        "status": "in_progress",
        "previous_status": "assigned",
        "priority": 2,
        "actor": "ann",
        "occurred_at": LATER,
        "service_id": SERVICE,
        "ci_id": CI,
        "category": "network",
        "assignment_group": "ops",
        "supplier_id": SUPPLIER,
    }
    values.update(overrides)
    return cls(**values)


def project(data: Any) -> dict[str, Any]:
    [(table, values)] = rules.incident_later(data, data.routing_key)
    assert table is INCIDENTS
    return values


def test_an_opened_incident_sets_its_row() -> None:
    data = IncidentCreated(
        incident_id=INC,
        number="INC0000001",
        title="t",
        impact=2,
        urgency=3,
        priority=3,
        caller="c",
        ci_id=CI,
        opened_at=T,
        channel="phone",
        category="network",
        service_id=SERVICE,
        assignment_group="ops",
        supplier_id=SUPPLIER,
    )
    assert rules.incident_created(data) == [
        (
            INCIDENTS,
            {
                "incident_id": INC,
                "number": "INC0000001",
                "status": "new",
                "priority": 3,
                "impact": 2,
                "urgency": 3,
                "service_id": SERVICE,
                "ci_id": CI,
                "category": "network",
                "assignment_group": "ops",
                "supplier_id": SUPPLIER,
                "channel": "phone",
                "major": None,  # not major says nothing: a later declaration stays
                "opened_at": T,
            },
        )
    ]


def test_an_incident_opened_as_major_is_major() -> None:
    data = IncidentCreated(
        incident_id=INC, number="I", title="t", impact=1, urgency=1, priority=1, caller="c", opened_at=T, major=True
    )
    [(_, values)] = rules.incident_created(data)
    assert values["major"] is True


def test_any_later_event_sets_the_incidents_current_state() -> None:
    assert project(later(IncidentPriorityChanged, previous_priority=3)) == STATE
    assert project(later(IncidentPriorityChanged, previous_priority=3, major=True))["major"] is True


def test_a_first_assignment_is_the_first_response_but_no_reassignment() -> None:
    values = project(later(IncidentAssigned, status="assigned", changes={"assignment_group": [None, "ops"]}))
    assert values == STATE | {"status": "assigned", "first_response_at": LATER, "reassignments": 0}
    values = project(later(IncidentAssigned, status="assigned"))
    assert values["reassignments"] == 0


def test_moving_the_incident_to_another_group_is_a_reassignment() -> None:
    values = project(later(IncidentAssigned, status="assigned", changes={"assignment_group": ["desk", "ops"]}))
    assert values["reassignments"] == 1
    assert values["first_response_at"] == LATER


@pytest.mark.parametrize(("status", "responded"), [("in_progress", True), ("assigned", True), ("on_hold", False)])
def test_starting_work_is_a_response_and_putting_on_hold_is_not(status: str, responded: bool) -> None:
    values = project(later(IncidentStatusChanged, status=status))
    assert values.get("first_response_at") == (LATER if responded else None)


def test_escalations_reopenings_declarations_and_closing_are_recorded() -> None:
    assert project(later(IncidentEscalated, kind="functional")) == STATE | {"escalations": 1}
    assert project(later(IncidentReopened)) == STATE | {"reopens": 1}
    declared = later(IncidentMajorDeclared, manager="m", declared_at=LATER)
    assert project(declared) == STATE | {"major": True}
    assert project(later(IncidentClosed, status="closed")) == STATE | {"status": "closed", "closed_at": LATER}


def test_the_same_kind_of_event_under_another_routing_key_sets_only_the_state() -> None:
    [(_, values)] = rules.incident_later(later(IncidentStatusChanged, status="in_progress"), "incident.unknown.v1")
    assert values == STATE


def sla(target: str, met: bool) -> SlaResult:
    return SlaResult(target=target, target_business_s=3600, elapsed_business_s=1800, met=met)  # type: ignore[arg-type]


def test_a_resolution_sets_when_it_was_opened_resolved_and_first_responded_to_and_its_sla_results() -> None:
    data = later(
        IncidentResolved,
        status="resolved",
        resolution_code="fixed",
        resolved_at=LATER,
        opened_at=T,
        first_response_at=T + timedelta(minutes=10),
        sla=[sla("response", True), sla("resolution", False)],
    )
    assert project(data) == STATE | {
        "status": "resolved",
        "resolved_at": LATER,
        "opened_at": T,
        "first_response_at": T + timedelta(minutes=10),
        "response_met": True,
        "resolution_met": False,
    }


def test_a_resolution_without_a_response_time_or_sla_leaves_them_alone() -> None:
    data = later(IncidentResolved, status="resolved", resolution_code="fixed", resolved_at=LATER, opened_at=T)
    values = project(data)
    assert "first_response_at" not in values
    assert "response_met" not in values and "resolution_met" not in values


@pytest.mark.parametrize(
    ("results", "met"),
    [([True, True], True), ([True, False], False), ([False, True], False), ([False, False], False)],
)
def test_a_target_measured_twice_is_met_only_when_both_were(results: list[bool], met: bool) -> None:
    data = later(
        IncidentResolved,
        status="resolved",
        resolution_code="fixed",
        resolved_at=LATER,
        opened_at=T,
        sla=[sla("resolution", m) for m in results],
    )
    assert project(data)["resolution_met"] is met


def breach(kind: str, target: str) -> SlaBreached:
    return SlaBreached(
        ticket_kind=kind,  # type: ignore[arg-type]
        ticket_id=INC,
        ticket_number="T1",
        target=target,  # type: ignore[arg-type]
        policy_id=UUID(int=9),
        service_id=SERVICE,
        priority=1,
        assignment_group="ops",
        supplier_id=SUPPLIER,
        ci_id=CI,
        target_business_s=3600,
        elapsed_business_s=4000,
        due_at=T,
        occurred_at=LATER,
    )


@pytest.mark.parametrize(
    ("target", "column"), [("response", "response_breached"), ("resolution", "resolution_breached")]
)
def test_a_breach_notice_on_an_incident_marks_that_target_breached(target: str, column: str) -> None:
    assert rules.sla_breached(breach("incident", target)) == [
        (
            INCIDENTS,
            {
                "incident_id": INC,
                "number": "T1",
                "priority": 1,
                "service_id": SERVICE,
                "assignment_group": "ops",
                "supplier_id": SUPPLIER,
                "ci_id": CI,
                column: True,
            },
        )
    ]


@pytest.mark.parametrize(
    ("target", "column"), [("response", "response_breached"), ("resolution", "fulfilment_breached")]
)
def test_a_breach_notice_on_a_request_marks_that_target_breached(target: str, column: str) -> None:
    assert rules.sla_breached(breach("request", target)) == [
        (
            REQUESTS,
            {
                "request_id": INC,
                "number": "T1",
                "priority": 1,
                "service_id": SERVICE,
                "assignment_group": "ops",
                column: True,
            },
        )
    ]


REQUEST_ROW = {
    "request_id": REQ,
    "number": "REQ0000001",
    "catalogue_item": "laptop",
    "priority": 3,
    "service_id": SERVICE,
    "assignment_group": "desk",
    "submitted_at": T,
}


def request(cls: type, status: str, **extra: Any) -> Any:
    return cls(
        request_id=REQ,
        number="REQ0000001",
        status=status,
        catalogue_item="laptop",
        requester="r",
        service_id=SERVICE,
        priority=3,
        assignment_group="desk",
        actor="a",
        occurred_at=LATER,
        submitted_at=T,
        **extra,
    )


def test_a_request_sets_its_row_and_is_fulfilled_and_closed_when_it_says_so() -> None:
    assert rules.request(request(RequestSubmitted, "submitted")) == [(REQUESTS, REQUEST_ROW | {"status": "submitted"})]
    fulfilled = request(
        RequestFulfilled, "fulfilled", fulfilled_at=LATER, sla=[sla("response", True), sla("resolution", False)]
    )
    assert rules.request(fulfilled) == [
        (
            REQUESTS,
            REQUEST_ROW | {"status": "fulfilled", "fulfilled_at": LATER, "response_met": True, "fulfilment_met": False},
        )
    ]
    assert rules.request(request(RequestClosed, "closed")) == [
        (REQUESTS, REQUEST_ROW | {"status": "closed", "closed_at": LATER})
    ]


PROBLEM_ROW = {
    "problem_id": PRB,
    "number": "PRB0000001",
    "service_id": SERVICE,
    "ci_id": CI,
    "category": "network",
    "incident_count": 2,
}


def problem(cls: type, status: str, **extra: Any) -> Any:
    return cls(
        problem_id=PRB,
        number="PRB0000001",
        title="t",
        status=status,
        ci_id=CI,
        service_id=SERVICE,
        category="network",
        incident_ids=[UUID(int=20), UUID(int=21)],
        actor="a",
        occurred_at=LATER,
        **extra,
    )


def test_a_problem_sets_its_row_at_each_step() -> None:
    created = problem(ProblemCreated, "new", origin="recurrence")
    assert rules.problem(created) == [
        (PROBLEMS, PROBLEM_ROW | {"status": "new", "origin": "recurrence", "opened_at": LATER})
    ]
    published = problem(
        ProblemKnownErrorPublished, "known_error", known_error_id=UUID(int=30), root_cause="r", workaround="w"
    )
    assert rules.problem(published) == [(PROBLEMS, PROBLEM_ROW | {"status": "known_error", "known_error_at": LATER})]
    resolved = problem(ProblemResolved, "resolved", change_id=CHG)
    assert rules.problem(resolved) == [
        (PROBLEMS, PROBLEM_ROW | {"status": "resolved", "change_id": CHG, "resolved_at": LATER})
    ]
    assert rules.problem(problem(ProblemClosed, "closed")) == [
        (PROBLEMS, PROBLEM_ROW | {"status": "closed", "closed_at": LATER})
    ]


def test_a_problem_update_names_its_change_only_when_it_has_one() -> None:
    assert rules.problem(problem(ProblemUpdated, "under_investigation", change_id=CHG)) == [
        (PROBLEMS, PROBLEM_ROW | {"status": "under_investigation", "change_id": CHG})
    ]
    assert rules.problem(problem(ProblemUpdated, "under_investigation")) == [
        (PROBLEMS, PROBLEM_ROW | {"status": "under_investigation"})
    ]
    assert "change_id" not in rules.problem(problem(ProblemResolved, "resolved"))[0][1]


def test_an_incident_linked_to_a_problem_records_the_problem_and_why() -> None:
    data = IncidentLinkedToProblem(
        incident_id=INC,
        incident_number="INC0000001",
        problem_id=PRB,
        problem_number="PRB0000001",
        reason="recurrence",
        occurred_at=LATER,
    )
    assert rules.linked_to_problem(data) == [
        (
            INCIDENTS,
            {"incident_id": INC, "number": "INC0000001", "problem_id": PRB, "problem_link_reason": "recurrence"},
        )
    ]


def test_an_incident_caused_by_a_change_is_recorded_on_both() -> None:
    data = IncidentLinkedToChange(
        incident_id=INC,
        incident_number="INC0000001",
        change_id=CHG,
        change_number="CHG0000001",
        service_id=SERVICE,
        reason="probable_cause",
        occurred_at=LATER,
    )
    assert rules.linked_to_change(data) == [
        (INCIDENTS, {"incident_id": INC, "number": "INC0000001", "caused_by_change_id": CHG}),
        (CHANGE_INCIDENTS, {"change_id": CHG, "incident_id": INC, "service_id": SERVICE}),
    ]
