"""Projections as pure code: what each event contributes to the fact tables (no I/O).

Every event becomes zero or more `Patch`es: values for some columns of one row of one fact table.
Each column has a `Merge` rule saying how a patch combines with what the row already holds. The
rules are chosen so that the result does not depend on the order the events are applied in:

- LATEST: the value of the newest event that carries one (each such column keeps the time of
  the event that set it); a missing value never erases one. Two events at the same instant (a
  contract drafted and activated in one backdated step) tie: on a status column the state later
  in its lifecycle wins (`FactTable.lifecycles`, below), elsewhere the greater value;
- FILL: the first known value stays (facts that never change: a number, when it was opened);
- MIN / MAX: the earliest / latest of the values seen (first response, last resolution);
- ALL / ANY: boolean AND / OR of every observation (a result missed once stays missed);
- ADD: a counter (each event is applied once: the inbox and the event log see to that).

So a late or redelivered event never overwrites a newer state, and replaying the log in any
order rebuilds the same projections.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.reporting.domain.lifecycles import (
    AGREEMENT_LIFECYCLE,
    CHANGE_LIFECYCLE,
    CI_LIFECYCLE,
    COMPLAINT_LIFECYCLE,
    CONTRACT_LIFECYCLE,
    DEPLOYMENT_LIFECYCLE,
    DISPUTE_LIFECYCLE,
    INCIDENT_LIFECYCLE,
    PROBLEM_LIFECYCLE,
    REQUEST_LIFECYCLE,
    SUPPLIER_LIFECYCLE,
)

_STATE = re.compile(r"[a-z][a-z_]*")


class Merge(StrEnum):
    LATEST = "latest"
    FILL = "fill"
    MIN = "min"
    MAX = "max"
    ALL = "all"
    ANY = "any"
    ADD = "add"
    KEY = "key"


@dataclass(frozen=True)
class FactTable:
    """A fact table's merge rules, by column (the key columns have Merge.KEY).

    `lifecycles`: for a LATEST status column, its states in lifecycle order; a tie between two
    events at the same instant goes to the later state (see `tie_rank`).
    """

    name: str
    columns: Mapping[str, Merge]
    lifecycles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for column, states in self.lifecycles.items():
            if self.columns.get(column) is not Merge.LATEST:
                raise ValueError(f"{self.name}.{column}: a lifecycle orders ties of a LATEST column only")
            if len(set(states)) != len(states) or not all(_STATE.fullmatch(s) for s in states) or len(states) > 998:
                raise ValueError(f"{self.name}.{column}: states must be distinct snake_case names (998 at most)")

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(c for c, m in self.columns.items() if m is Merge.KEY)

    def tie_rank(self, column: str, value: Any) -> tuple[int, Any]:
        """What orders two values of a LATEST column set at the same instant: the greater wins.

        A status column ranks by its lifecycle (a state it does not know ranks below every known
        one), then by the value itself, so the order is total and the merge commutative.
        """
        states = self.lifecycles.get(column)
        if states is None:
            return (0, value)
        return (states.index(value) if value in states else -1, value)


L, F, MN, MX, AL, AN, AD, K = (
    Merge.LATEST,
    Merge.FILL,
    Merge.MIN,
    Merge.MAX,
    Merge.ALL,
    Merge.ANY,
    Merge.ADD,
    Merge.KEY,
)

INCIDENTS = FactTable(
    "incident_facts",
    {
        "incident_id": K,
        "number": F,
        "status": L,
        "priority": L,
        "impact": L,
        "urgency": L,
        "service_id": L,
        "ci_id": L,
        "category": L,
        "assignment_group": L,
        "supplier_id": L,
        "channel": F,
        "major": AN,
        "opened_at": F,
        "first_response_at": MN,
        "resolved_at": MX,
        "closed_at": MX,
        "response_met": AL,
        "resolution_met": AL,
        "response_breached": AN,
        "resolution_breached": AN,
        "reassignments": AD,
        "escalations": AD,
        "reopens": AD,
        "problem_id": F,
        "problem_link_reason": F,
        "caused_by_change_id": F,
        "customer_id": F,
    },
    {"status": INCIDENT_LIFECYCLE},
)
REQUESTS = FactTable(
    "request_facts",
    {
        "request_id": K,
        "number": F,
        "catalogue_item": F,
        "status": L,
        "priority": L,
        "service_id": L,
        "assignment_group": L,
        "submitted_at": F,
        "fulfilled_at": MX,
        "closed_at": MX,
        "response_met": AL,
        "fulfilment_met": AL,
        "response_breached": AN,
        "fulfilment_breached": AN,
    },
    {"status": REQUEST_LIFECYCLE},
)
PROBLEMS = FactTable(
    "problem_facts",
    {
        "problem_id": K,
        "number": F,
        "status": L,
        "service_id": L,
        "ci_id": L,
        "category": L,
        "origin": F,
        "opened_at": MN,
        "known_error_at": MN,
        "resolved_at": MX,
        "closed_at": MX,
        "change_id": L,
        "incident_count": MX,
    },
    {"status": PROBLEM_LIFECYCLE},
)
CHANGES = FactTable(
    "change_facts",
    {
        "change_id": K,
        "number": F,
        "type": L,
        "status": L,
        "created_at": F,
        "implemented_at": MX,
        "failed_at": MX,
        "backed_out": AN,
        "closed_at": MX,
    },
    {"status": CHANGE_LIFECYCLE},
)
CHANGE_SERVICES = FactTable("change_service_facts", {"change_id": K, "service_id": K})
CHANGE_INCIDENTS = FactTable("change_incident_facts", {"change_id": K, "incident_id": K, "service_id": F})
DEPLOYMENTS = FactTable(
    "deployment_facts",
    {
        "deployment_id": K,
        "service_id": L,
        "service": F,
        "environment": F,
        "result": L,
        "change_id": F,
        "release_id": F,
        "started_at": MN,
        "finished_at": MX,
        "recorded_at": MN,
    },
    {"result": DEPLOYMENT_LIFECYCLE},
)
CIS = FactTable(
    "ci_facts",
    {
        "ci_id": K,
        "number": F,
        "name": L,
        "type": L,
        "status": L,
        "criticality": L,
        "service_id": L,
        "supplier_id": L,
        "created_at": MN,
        "retired_at": MX,
    },
    {"status": CI_LIFECYCLE},
)
CMDB_FINDINGS = FactTable(
    "cmdb_finding_facts",
    {"finding_id": K, "kind": F, "ci_id": F, "change_id": F, "detected_at": F},
)
SUPPLIERS = FactTable(
    "supplier_facts",
    {"supplier_id": K, "number": F, "name": L, "category": F, "status": L, "created_at": MN},
    {"status": SUPPLIER_LIFECYCLE},
)
CONTRACTS = FactTable(
    "contract_facts",
    {
        "contract_id": K,
        "supplier_id": F,
        "number": F,
        "status": L,
        "starts_on": F,
        "ends_on": MX,
        "activated_at": MN,
        "ended_at": MN,
    },
    {"status": CONTRACT_LIFECYCLE},
)
"""`activated_at`: when it was activated; `ended_at`: when it was terminated or expired. In force at
a moment t: activated_at <= t, starts_on <= t < ends_on (the latest term, renewals included), and
t < ended_at when it has ended (see services/reporting/README.md, Supplier attribution)."""
CONTRACT_COVERAGE = FactTable(
    "contract_coverage_facts",
    {
        "contract_id": K,
        "item_kind": K,
        "item_id": K,
        "covered": L,
        "added_at": MN,
        "removed_at": MX,
    },
)
"""The CIs (`item_kind` ci) and services (service) a contract covers: `added_at` when first covered
(activation, or the amendment that added it), `removed_at` when an amendment last took it out,
`covered` whether the latest of those left it covered. Covered at t: added_at <= t and (covered
or t < removed_at)."""
SUPPLIER_BREACHES = FactTable(
    "supplier_breach_facts",
    {
        "breach_id": K,
        "supplier_id": F,
        "contract_id": F,
        "metric": F,
        "priority": F,
        "target": F,
        "actual": F,
        "incident_id": F,
        "period": F,
        "occurred_at": F,
    },
)
DISPUTES = FactTable(
    "dispute_facts",
    {"dispute_id": K, "supplier_id": F, "contract_id": F, "status": L, "opened_at": MN, "closed_at": MX},
    {"status": DISPUTE_LIFECYCLE},
)

# Satisfaction (ISO/IEC 20000-1 7.1): each survey issued and its answer; each complaint, by service.
SURVEYS = FactTable(
    "survey_facts",
    {
        "survey_id": K,
        "number": F,
        "ticket_kind": F,
        "ticket_id": F,
        "service_id": F,
        "respondent": F,
        "issued_at": F,
        "answered_at": F,
        "score": F,
        "complaint_id": F,
    },
)
COMPLAINTS = FactTable(
    "complaint_facts",
    {
        "complaint_id": K,
        "number": F,
        "complainant": F,
        "received_via": F,
        "received_at": F,
        "service_id": L,
        "status": L,
    },
    {"status": COMPLAINT_LIFECYCLE},
)
CAPACITY_LEVELS = ("ok", "warning", "critical")  # config: domain/capacity.py's Level, worst last
CAPACITY = FactTable(
    "capacity_facts",
    {
        "ci_id": K,
        "metric": K,
        "unit": F,
        "level": L,
        "value": L,
        "warning": L,
        "critical": L,
        "runway_to_critical_s": L,
        "breaches": AD,
        "critical_breaches": AD,
        "last_breached_at": MX,
        "last_cleared_at": MX,
    },
    {"level": CAPACITY_LEVELS},
)
"""A CI's capacity metric as its threshold crossings tell it (config's capacity.* events): where it
stands since the last crossing, the value that crossed, and the runway a warning breach forecast."""

# Customers' agreements (6.1): each agreed version of an SLA or OLA, from config's agreement.* events.
_AGREEMENT_FACTS = ("number", "document_version", "kind", "customer_id", "customer_name", "group_name", "agreed_at")
AGREEMENTS = FactTable(
    "agreement_facts",
    {"agreement_id": K, **dict.fromkeys(_AGREEMENT_FACTS, F), "availability_pct": F, "ended_at": MX, "status": L},
    {"status": AGREEMENT_LIFECYCLE},
)

FACT_TABLES: tuple[FactTable, ...] = (
    INCIDENTS,
    REQUESTS,
    PROBLEMS,
    CHANGES,
    CHANGE_SERVICES,
    CHANGE_INCIDENTS,
    DEPLOYMENTS,
    CIS,
    CMDB_FINDINGS,
    SUPPLIERS,
    CONTRACTS,
    CONTRACT_COVERAGE,
    SUPPLIER_BREACHES,
    DISPUTES,
    SURVEYS,
    COMPLAINTS,
    CAPACITY,
    AGREEMENTS,
)


@dataclass(frozen=True)
class Patch:
    """Values for some columns of one fact row, from one event (`at`, `event_id` order them)."""

    table: FactTable
    values: Mapping[str, Any]
    at: datetime
    event_id: str

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.values)
