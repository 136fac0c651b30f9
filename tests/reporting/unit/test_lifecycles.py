"""The lifecycles reporting breaks same-instant ties with, against the owning services' own tables,
and what contract events say about coverage (pure code, no database)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest

from services.change.domain.changes import TRANSITIONS as CHANGE_TRANSITIONS
from services.change.domain.changes import ChangeStatus
from services.change.domain.deployments import RESULT_MOVES, DeploymentResult
from services.config.domain.agreements import TRANSITIONS as AGREEMENT_TRANSITIONS
from services.config.domain.agreements import AgreementStatus
from services.config.domain.items import CIStatus
from services.incident.domain.complaints import TRANSITIONS as COMPLAINT_TRANSITIONS
from services.incident.domain.complaints import ComplaintStatus
from services.incident.domain.incident_lifecycle import TRANSITIONS as INCIDENT_TRANSITIONS
from services.incident.domain.incident_lifecycle import IncidentStatus
from services.incident.domain.problems import TRANSITIONS as PROBLEM_TRANSITIONS
from services.incident.domain.problems import ProblemStatus
from services.incident.domain.requests import TRANSITIONS as REQUEST_TRANSITIONS
from services.incident.domain.requests import RequestStatus
from services.reporting.domain import facts
from services.reporting.domain.facts import FACT_TABLES, FactTable, Merge, Patch
from services.reporting.events import patches_for
from services.supplier.domain.contracts import TRANSITIONS as CONTRACT_TRANSITIONS
from services.supplier.domain.contracts import ContractStatus
from services.supplier.domain.disputes import DISPUTE_TRANSITIONS, DisputeStatus
from services.supplier.domain.suppliers import SupplierStatus
from shared.events import new_event
from shared.events.supplier import ContractActivated, ContractAmended, ContractTerminated

Steps = Iterable[tuple[str, str]]


def _steps(table: Mapping[Any, Mapping[Any, Any]]) -> set[tuple[str, str]]:
    """(from, to) of every action that changes the status."""
    return {(str(a), str(b)) for a, moves in table.items() for b in moves.values() if b is not None and b != a}


# (table, column, the owning service's states, its steps, the steps that go back on purpose)
LIFECYCLES: list[tuple[FactTable, str, type[StrEnum], Steps, Steps]] = [
    (
        facts.INCIDENTS,
        "status",
        IncidentStatus,
        _steps(INCIDENT_TRANSITIONS),
        {("on_hold", "in_progress"), ("resolved", "in_progress")},  # resume, reopen
    ),
    (facts.REQUESTS, "status", RequestStatus, _steps(REQUEST_TRANSITIONS), set()),
    (facts.PROBLEMS, "status", ProblemStatus, _steps(PROBLEM_TRANSITIONS), {("resolved", "under_investigation")}),
    (facts.CHANGES, "status", ChangeStatus, _steps(CHANGE_TRANSITIONS), set()),
    (
        facts.DEPLOYMENTS,
        "result",
        DeploymentResult,
        {(str(a), str(b)) for a, moves in RESULT_MOVES.items() for b in moves},
        set(),
    ),
    # The CMDB and the supplier register let the status be set freely: their declared order.
    (facts.CIS, "status", CIStatus, set(), set()),
    (facts.SUPPLIERS, "status", SupplierStatus, set(), set()),
    (facts.CONTRACTS, "status", ContractStatus, _steps(CONTRACT_TRANSITIONS), {("expiring", "active")}),  # renew
    (
        facts.DISPUTES,
        "status",
        DisputeStatus,
        _steps(DISPUTE_TRANSITIONS),
        {("escalated", "in_negotiation"), ("resolved", "open")},  # back to negotiation, reopen
    ),
    (
        facts.COMPLAINTS,
        "status",
        ComplaintStatus,
        _steps(COMPLAINT_TRANSITIONS),
        {
            ("action_taken", "under_investigation"),  # the action did not settle it
            ("escalated", "under_investigation"),  # the relationship manager hands it back
            ("escalated", "action_taken"),
            ("resolved_pending_confirmation", "escalated"),
            ("reopened", "under_investigation"),
            ("reopened", "escalated"),
            ("closed", "reopened"),
        },
    ),
    (
        facts.AGREEMENTS,
        "status",
        AgreementStatus,
        {(str(a), str(b)) for (a, _), b in AGREEMENT_TRANSITIONS.items()},
        set(),
    ),
]


@pytest.mark.parametrize(
    ("table", "column", "states", "steps", "back"), LIFECYCLES, ids=lambda v: getattr(v, "name", "")
)
def test_each_lifecycle_has_the_services_states_and_every_forward_step_goes_up_it(
    table: FactTable, column: str, states: type[StrEnum], steps: Steps, back: Steps
) -> None:
    order = table.lifecycles[column]
    assert set(order) == {s.value for s in states}
    if not steps:
        assert list(order) == [s.value for s in states]
    going_back = {(a, b) for a, b in steps if order.index(b) < order.index(a)}
    assert going_back == set(back)


def test_every_fact_table_with_a_status_has_a_lifecycle() -> None:
    ordered = {(t.name, c) for t, c, *_ in LIFECYCLES}
    for table in FACT_TABLES:
        for column, merge in table.columns.items():
            if column in ("status", "result") and merge is Merge.LATEST:
                assert (table.name, column) in ordered


def test_a_tie_goes_to_the_later_state_then_to_the_greater_value() -> None:
    rank = facts.CONTRACTS.tie_rank
    assert rank("status", "active") > rank("status", "draft")  # though "draft" > "active" as text
    assert rank("status", "expiring") > rank("status", "active")
    assert rank("status", "draft") > rank("status", "on_paper")  # unknown states rank below known ones
    assert rank("status", "on_paper") > rank("status", "ink")  # and between themselves by value
    assert facts.INCIDENTS.tie_rank("priority", 3) > facts.INCIDENTS.tie_rank("priority", 2)


def test_a_lifecycle_orders_a_latest_column_of_distinct_names_only() -> None:
    with pytest.raises(ValueError, match="LATEST"):
        FactTable("t", {"id": Merge.KEY, "status": Merge.FILL}, {"status": ("a", "b")})
    with pytest.raises(ValueError, match="distinct"):
        FactTable("t", {"id": Merge.KEY, "status": Merge.LATEST}, {"status": ("a", "a")})
    with pytest.raises(ValueError, match="snake_case"):
        FactTable("t", {"id": Merge.KEY, "status": Merge.LATEST}, {"status": ("a'; drop",)})


T = datetime(2026, 10, 5, tzinfo=UTC)
CONTRACT, SUPPLIER = uuid.uuid4(), uuid.uuid4()
CI_A, CI_B, SERVICE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
COMMON = {"contract_id": CONTRACT, "number": "CTR0000009", "supplier_id": SUPPLIER, "actor": "a"}


def _patches(data: Any) -> list[Patch]:
    return patches_for(new_event(data, source="/itsm/supplier", subject=str(CONTRACT)))


def _coverage(patches: list[Patch]) -> dict[tuple[str, uuid.UUID], dict[str, Any]]:
    return {
        (p.values["item_kind"], p.values["item_id"]): {
            k: v for k, v in p.values.items() if k not in facts.CONTRACT_COVERAGE.key
        }
        for p in patches
        if p.table is facts.CONTRACT_COVERAGE
    }


def test_an_activated_contract_covers_its_cis_and_services_from_then() -> None:
    at = T + timedelta(hours=3)
    patches = _patches(
        ContractActivated(
            **COMMON,
            status="active",
            occurred_at=at,
            starts_on=T,
            ends_on=T + timedelta(days=365),
            ci_ids=[CI_A, CI_A],
            service_ids=[SERVICE],
        )
    )
    contract = next(p for p in patches if p.table is facts.CONTRACTS)
    assert contract.values["activated_at"] == at
    assert (contract.values["starts_on"], contract.values["ends_on"]) == (T, T + timedelta(days=365))
    assert _coverage(patches) == {
        ("ci", CI_A): {"covered": True, "added_at": at},
        ("service", SERVICE): {"covered": True, "added_at": at},
    }
    assert all(p.at == at for p in patches)


def test_an_amendment_adds_and_removes_what_it_changes_in_the_coverage() -> None:
    at = T + timedelta(days=3)
    patches = _patches(
        ContractAmended(
            **COMMON,
            status="active",
            occurred_at=at,
            amendment=1,
            reason="r",
            changes={
                "ci_ids": [[str(CI_A)], [str(CI_B)]],
                "service_ids": [[str(SERVICE)], [str(SERVICE)]],
                "title": ["a", "b"],
            },
        )
    )
    assert _coverage(patches) == {
        ("ci", CI_B): {"covered": True, "added_at": at},
        ("ci", CI_A): {"covered": False, "removed_at": at},
    }
    unreadable = ContractAmended(
        **COMMON, status="active", occurred_at=at, amendment=2, reason="r", changes={"ci_ids": ["x", ["not-an-id"]]}
    )
    assert _coverage(_patches(unreadable)) == {}


def test_a_termination_ends_the_contract() -> None:
    at = T + timedelta(days=30)
    patches = _patches(ContractTerminated(**COMMON, status="terminated", occurred_at=at, reason="r"))
    assert [(p.table, p.values["status"], p.values["ended_at"]) for p in patches] == [
        (facts.CONTRACTS, "terminated", at)
    ]
