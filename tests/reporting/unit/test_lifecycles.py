"""The lifecycles reporting breaks same-instant ties with, against the owning services' own tables
(pure code, no database)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

import pytest

from services.change.delivery.domain import RESULT_MOVES, DeploymentResult
from services.change.domain import TRANSITIONS as CHANGE_TRANSITIONS
from services.change.domain import ChangeStatus
from services.config.domain.items import CIStatus
from services.incident.domain.incident import TRANSITIONS as INCIDENT_TRANSITIONS
from services.incident.domain.incident import IncidentStatus
from services.incident.domain_problem import TRANSITIONS as PROBLEM_TRANSITIONS
from services.incident.domain_problem import ProblemStatus
from services.incident.requests.domain import TRANSITIONS as REQUEST_TRANSITIONS
from services.incident.requests.domain import RequestStatus
from services.reporting.domain import facts
from services.reporting.domain.facts import FACT_TABLES, FactTable, Merge
from services.supplier.domain.contracts import TRANSITIONS as CONTRACT_TRANSITIONS
from services.supplier.domain.contracts import ContractStatus
from services.supplier.domain.governance import DISPUTE_TRANSITIONS, DisputeStatus
from services.supplier.domain.suppliers import SupplierStatus

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
