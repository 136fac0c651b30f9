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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from shared.events import CloudEvent, EventData
from shared.events.change import (
    ChangeCreated,
    ChangeFailed,
    ChangeImplemented,
    ChangeStatusEvent,
    DeploymentRecorded,
)
from shared.events.config import (
    ChangeRejected,
    ConfigItemCreated,
    ConfigItemRetired,
    ConfigItemUpdated,
    UnauthorisedChangeDetected,
)
from shared.events.incident import (
    IncidentCreated,
    IncidentEscalated,
    IncidentEvent,
    IncidentLinkedToChange,
    IncidentLinkedToProblem,
    IncidentReopened,
    IncidentResolved,
    KnownErrorPublished,
    MajorIncidentDeclared,
    ProblemCreated,
    ProblemEvent,
    ProblemResolved,
    ProblemUpdated,
    RequestEvent,
    RequestFulfilled,
    SlaBreached,
    SlaResult,
)
from shared.events.supplier import (
    ContractActivated,
    ContractAmended,
    ContractEvent,
    ContractExpired,
    ContractExpiring,
    ContractRenewed,
    ContractTerminated,
    DisputeClosed,
    DisputeEvent,
    DisputeOpened,
    SupplierCreated,
    SupplierTargetBreached,
    SupplierUpdated,
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

# Lifecycles, for ties: each status column's states in the order its owning service moves through
# them (its lifecycle table, named on each line). Every forward step goes up this order; a step back
# (an incident resumed or reopened, a problem or dispute reopened, a contract renewed from
# expiring, a dispute back to negotiation) goes down it, so a step back at the same instant as the
# step it undoes is the one tie this cannot tell apart (the later state in the forward order wins).
# tests/reporting/unit/test_ties.py checks these against the services' tables.

INCIDENT_LIFECYCLE = ("new", "assigned", "in_progress", "on_hold", "resolved", "closed", "cancelled")
"""incident: services/incident/domain/incident.py TRANSITIONS"""
REQUEST_LIFECYCLE = ("submitted", "approved", "in_fulfilment", "fulfilled", "rejected", "closed", "cancelled")
"""service request: services/incident/requests/domain.py TRANSITIONS"""
PROBLEM_LIFECYCLE = ("new", "under_investigation", "known_error", "resolved", "closed", "cancelled")
"""problem: services/incident/domain_problem.py TRANSITIONS"""
CHANGE_LIFECYCLE = (
    "draft",
    "submitted",
    "assessed",
    "approved",
    "rejected",
    "scheduled",
    "implementing",
    "implemented",
    "failed",
    "reviewed",
    "closed",
    "cancelled",
)
"""change: services/change/domain.py TRANSITIONS"""
DEPLOYMENT_LIFECYCLE = ("in_progress", "succeeded", "failed", "rolled_back")
"""deployment result: services/change/delivery/domain.py RESULT_MOVES"""
CI_LIFECYCLE = ("planned", "in_build", "live", "maintenance", "retired")
"""CI: services/config/domain/items.py CIStatus (set freely, except that retired is final)"""
SUPPLIER_LIFECYCLE = ("onboarding", "active", "suspended", "exited")
"""supplier: services/supplier/domain/suppliers.py SupplierStatus (set freely)"""
CONTRACT_LIFECYCLE = ("draft", "active", "expiring", "expired", "terminated", "cancelled")
"""contract: services/supplier/domain/contracts.py TRANSITIONS"""
DISPUTE_LIFECYCLE = ("open", "in_negotiation", "escalated", "resolved", "closed")
"""dispute: services/supplier/domain/governance.py DISPUTE_TRANSITIONS"""

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


_OPEN_STATUSES_FOR_RESPONSE = {"in_progress", "assigned"}


def _sla_columns(results: list[SlaResult], *, resolution_name: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for result in results:
        name = "response_met" if result.target == "response" else f"{resolution_name}_met"
        values[name] = result.met if values.get(name) is None else values[name] and result.met
    return values


def _incident_state(data: IncidentEvent) -> dict[str, Any]:
    return {
        "incident_id": data.incident_id,
        "number": data.number,
        "status": data.status,
        "priority": data.priority,
        "service_id": data.service_id,
        "ci_id": data.ci_id,
        "category": data.category,
        "assignment_group": data.assignment_group,
        "supplier_id": data.supplier_id,
        "major": data.major or None,
    }


def _incident_created(data: IncidentCreated) -> list[tuple[FactTable, dict[str, Any]]]:
    return [
        (
            INCIDENTS,
            {
                "incident_id": data.incident_id,
                "number": data.number,
                "status": data.status,
                "priority": data.priority,
                "impact": data.impact,
                "urgency": data.urgency,
                "service_id": data.service_id,
                "ci_id": data.ci_id,
                "category": data.category,
                "assignment_group": data.assignment_group,
                "supplier_id": data.supplier_id,
                "channel": data.channel,
                "major": data.major or None,
                "opened_at": data.opened_at,
            },
        )
    ]


def _incident_later(data: IncidentEvent, routing_key: str) -> list[tuple[FactTable, dict[str, Any]]]:
    values = _incident_state(data)
    if routing_key == "incident.assigned.v1":
        values["first_response_at"] = data.occurred_at
        # A reassignment moves the incident from one group to another (the first assignment is not one).
        previous_group = (data.changes.get("assignment_group") or [None])[0]
        values["reassignments"] = 1 if previous_group else 0
    elif routing_key == "incident.status_changed.v1" and data.status in _OPEN_STATUSES_FOR_RESPONSE:
        values["first_response_at"] = data.occurred_at
    elif routing_key == IncidentEscalated.routing_key:
        values["escalations"] = 1
    elif routing_key == IncidentReopened.routing_key:
        values["reopens"] = 1
    elif routing_key == MajorIncidentDeclared.routing_key:
        values["major"] = True
    elif routing_key == "incident.closed.v1":
        values["closed_at"] = data.occurred_at
    if isinstance(data, IncidentResolved):
        values["resolved_at"] = data.resolved_at
        values["opened_at"] = data.opened_at
        if data.first_response_at is not None:
            values["first_response_at"] = data.first_response_at
        values.update(_sla_columns(data.sla, resolution_name="resolution"))
    return [(INCIDENTS, values)]


def _sla_breached(data: SlaBreached) -> list[tuple[FactTable, dict[str, Any]]]:
    if data.ticket_kind == "incident":
        name = "response" if data.target == "response" else "resolution"
        return [
            (
                INCIDENTS,
                {
                    "incident_id": data.ticket_id,
                    "number": data.ticket_number,
                    "priority": data.priority,
                    "service_id": data.service_id,
                    "assignment_group": data.assignment_group,
                    "supplier_id": data.supplier_id,
                    "ci_id": data.ci_id,
                    f"{name}_breached": True,
                },
            )
        ]
    name = "response" if data.target == "response" else "fulfilment"
    return [
        (
            REQUESTS,
            {
                "request_id": data.ticket_id,
                "number": data.ticket_number,
                "priority": data.priority,
                "service_id": data.service_id,
                "assignment_group": data.assignment_group,
                f"{name}_breached": True,
            },
        )
    ]


def _request(data: RequestEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "request_id": data.request_id,
        "number": data.number,
        "catalogue_item": data.catalogue_item,
        "status": data.status,
        "priority": data.priority,
        "service_id": data.service_id,
        "assignment_group": data.assignment_group,
        "submitted_at": data.submitted_at,
    }
    if isinstance(data, RequestFulfilled):
        values["fulfilled_at"] = data.fulfilled_at
        values.update(_sla_columns(data.sla, resolution_name="fulfilment"))
    if data.status == "closed":
        values["closed_at"] = data.occurred_at
    return [(REQUESTS, values)]


def _problem(data: ProblemEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "problem_id": data.problem_id,
        "number": data.number,
        "status": data.status,
        "service_id": data.service_id,
        "ci_id": data.ci_id,
        "category": data.category,
        "incident_count": len(data.incident_ids),
    }
    if isinstance(data, ProblemCreated):
        values["origin"] = data.origin
        values["opened_at"] = data.occurred_at
    if isinstance(data, KnownErrorPublished):
        values["known_error_at"] = data.occurred_at
    if isinstance(data, ProblemUpdated | ProblemResolved) and data.change_id is not None:
        values["change_id"] = data.change_id
    if isinstance(data, ProblemResolved):
        values["resolved_at"] = data.occurred_at
    if data.status == "closed":
        values["closed_at"] = data.occurred_at
    return [(PROBLEMS, values)]


def _linked_to_problem(data: IncidentLinkedToProblem) -> list[tuple[FactTable, dict[str, Any]]]:
    return [
        (
            INCIDENTS,
            {
                "incident_id": data.incident_id,
                "number": data.incident_number,
                "problem_id": data.problem_id,
                "problem_link_reason": data.reason,
            },
        )
    ]


def _linked_to_change(data: IncidentLinkedToChange) -> list[tuple[FactTable, dict[str, Any]]]:
    return [
        (
            INCIDENTS,
            {"incident_id": data.incident_id, "number": data.incident_number, "caused_by_change_id": data.change_id},
        ),
        (
            CHANGE_INCIDENTS,
            {"change_id": data.change_id, "incident_id": data.incident_id, "service_id": data.service_id},
        ),
    ]


def _change_services(change_id: UUID, service_ids: list[UUID]) -> list[tuple[FactTable, dict[str, Any]]]:
    return [(CHANGE_SERVICES, {"change_id": change_id, "service_id": s}) for s in service_ids]


def _change_created(data: ChangeCreated) -> list[tuple[FactTable, dict[str, Any]]]:
    values = {
        "change_id": data.change_id,
        "number": data.number,
        "type": data.type,
        "status": data.status,
        "created_at": data.created_at,
    }
    return [(CHANGES, values)]


def _change_implemented(data: ChangeImplemented) -> list[tuple[FactTable, dict[str, Any]]]:
    values = {
        "change_id": data.change_id,
        "number": data.number,
        "type": data.type,
        "status": "implemented",
        "created_at": data.created_at,
        "implemented_at": data.implemented_at,
    }
    return [(CHANGES, values), *_change_services(data.change_id, data.service_ids)]


def _change_status(data: ChangeStatusEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "change_id": data.change_id,
        "number": data.number,
        "type": data.type,
        "status": data.status,
        "created_at": data.created_at,
    }
    if isinstance(data, ChangeFailed):
        values["failed_at"] = data.occurred_at
        values["backed_out"] = data.backed_out or None
    if data.status == "closed":
        values["closed_at"] = data.occurred_at
    return [(CHANGES, values), *_change_services(data.change_id, data.service_ids)]


def _deployment(data: DeploymentRecorded) -> list[tuple[FactTable, dict[str, Any]]]:
    finished = data.finished_at
    if finished is None and data.result != "in_progress":
        finished = data.recorded_at
    return [
        (
            DEPLOYMENTS,
            {
                "deployment_id": data.deployment_id,
                "service_id": data.service_id,
                "service": data.service,
                "environment": data.environment,
                "result": data.result,
                "change_id": data.change_id,
                "release_id": data.release_id,
                "started_at": data.started_at,
                "finished_at": finished,
                "recorded_at": data.recorded_at,
            },
        )
    ]


def _ci(data: ConfigItemCreated | ConfigItemUpdated) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "ci_id": data.ci_id,
        "number": data.number,
        "name": data.name,
        "type": data.type,
        "status": data.status,
        "criticality": data.criticality,
        "service_id": data.service_id,
        "supplier_id": data.supplier_id,
    }
    if isinstance(data, ConfigItemCreated):
        values["created_at"] = data.created_at
    return [(CIS, values)]


def _ci_retired(data: ConfigItemRetired) -> list[tuple[FactTable, dict[str, Any]]]:
    return [(CIS, {"ci_id": data.ci_id, "number": data.number, "status": "retired", "retired_at": data.retired_at})]


def _unauthorised(data: UnauthorisedChangeDetected) -> list[tuple[FactTable, dict[str, Any]]]:
    return [
        (
            CMDB_FINDINGS,
            {
                "finding_id": str(data.finding_id),
                "kind": "unauthorised_change",
                "ci_id": data.ci_id,
                "detected_at": data.detected_at,
            },
        )
    ]


def _supplier(data: SupplierCreated | SupplierUpdated) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "supplier_id": data.supplier_id,
        "number": data.number,
        "name": data.name,
        "status": data.status,
    }
    if isinstance(data, SupplierCreated):
        values["category"] = data.category
        values["created_at"] = data.created_at
    return [(SUPPLIERS, values)]


_COVERED_ITEMS = {"ci_ids": "ci", "service_ids": "service"}


def _coverage(data: ContractEvent, kind: str, item: UUID, *, covered: bool) -> tuple[FactTable, dict[str, Any]]:
    values: dict[str, Any] = {
        "contract_id": data.contract_id,
        "item_kind": kind,
        "item_id": item,
        "covered": covered,
        "added_at" if covered else "removed_at": data.occurred_at,
    }
    return (CONTRACT_COVERAGE, values)


def _uuids(value: Any) -> set[UUID]:
    """The ids in one side of an amendment's `[old, new]` (JSON text); anything else is no id."""
    found: set[UUID] = set()
    for item in value if isinstance(value, list) else []:
        try:
            found.add(UUID(str(item)))
        except ValueError:
            continue
    return found


def _amended_coverage(data: ContractAmended) -> list[tuple[FactTable, dict[str, Any]]]:
    out: list[tuple[FactTable, dict[str, Any]]] = []
    for name, kind in _COVERED_ITEMS.items():
        change = data.changes.get(name)
        if not isinstance(change, list) or len(change) != 2:
            continue
        old, new = _uuids(change[0]), _uuids(change[1])
        out += [_coverage(data, kind, item, covered=True) for item in sorted(new - old)]
        out += [_coverage(data, kind, item, covered=False) for item in sorted(old - new)]
    return out


def _contract(data: ContractEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "contract_id": data.contract_id,
        "supplier_id": data.supplier_id,
        "number": data.number,
        "status": data.status,
    }
    coverage: list[tuple[FactTable, dict[str, Any]]] = []
    if isinstance(data, ContractActivated):
        values["starts_on"] = data.starts_on
        values["ends_on"] = data.ends_on
        values["activated_at"] = data.occurred_at
        coverage += [_coverage(data, "ci", item, covered=True) for item in dict.fromkeys(data.ci_ids)]
        coverage += [_coverage(data, "service", item, covered=True) for item in dict.fromkeys(data.service_ids)]
    if isinstance(data, ContractRenewed | ContractExpiring):
        values["ends_on"] = data.ends_on
    if isinstance(data, ContractTerminated | ContractExpired):
        values["ended_at"] = data.occurred_at
    if isinstance(data, ContractAmended):
        coverage += _amended_coverage(data)
    return [(CONTRACTS, values), *coverage]


def _dispute(data: DisputeEvent) -> list[tuple[FactTable, dict[str, Any]]]:
    values: dict[str, Any] = {
        "dispute_id": data.dispute_id,
        "supplier_id": data.supplier_id,
        "contract_id": data.contract_id,
        "status": data.status,
    }
    if isinstance(data, DisputeOpened):
        values["opened_at"] = data.occurred_at
    if isinstance(data, DisputeClosed):
        values["closed_at"] = data.occurred_at
    return [(DISPUTES, values)]


Rule = Callable[[Any], list[tuple[FactTable, dict[str, Any]]]]


def _rules() -> dict[str, tuple[type[EventData], Rule]]:
    from shared.events import EVENT_TYPES

    rules: dict[str, tuple[type[EventData], Rule]] = {}
    for key, cls in EVENT_TYPES.items():
        rule: Rule | None = None
        if cls is IncidentCreated:
            rule = _incident_created
        elif issubclass(cls, IncidentEvent):
            rule = _bind_incident(key)
        elif cls is SlaBreached:
            rule = _sla_breached
        elif issubclass(cls, RequestEvent):
            rule = _request
        elif issubclass(cls, ProblemEvent):
            rule = _problem
        elif cls is IncidentLinkedToProblem:
            rule = _linked_to_problem
        elif cls is IncidentLinkedToChange:
            rule = _linked_to_change
        elif cls is ChangeCreated:
            rule = _change_created
        elif cls is ChangeImplemented:
            rule = _change_implemented
        elif issubclass(cls, ChangeStatusEvent):
            rule = _change_status
        elif cls is DeploymentRecorded:
            rule = _deployment
        elif cls in (ConfigItemCreated, ConfigItemUpdated):
            rule = _ci
        elif cls is ConfigItemRetired:
            rule = _ci_retired
        elif cls is UnauthorisedChangeDetected:
            rule = _unauthorised
        elif cls in (SupplierCreated, SupplierUpdated):
            rule = _supplier
        elif issubclass(cls, ContractEvent):
            rule = _contract
        elif issubclass(cls, DisputeEvent):
            rule = _dispute
        if rule is not None:
            rules[key] = (cls, rule)
    return rules


def _bind_incident(routing_key: str) -> Rule:
    def rule(data: IncidentEvent) -> list[tuple[FactTable, dict[str, Any]]]:
        return _incident_later(data, routing_key)

    return rule


_RULES = _rules()

# When what an event tells happened (what orders its values), from the first of these fields it
# has: a producer may publish late (outbox, replays), so the envelope's time is only the fallback.
_TIME_FIELDS = (
    "occurred_at",
    "recorded_at",
    "updated_at",
    "detected_at",
    "retired_at",
    "implemented_at",
    "opened_at",
    "created_at",
)


def _time_of(data: EventData, event: CloudEvent) -> datetime:
    for name in _TIME_FIELDS:
        value = getattr(data, name, None)
        if isinstance(value, datetime):
            return value
    return event.time


def patches_for(event: CloudEvent) -> list[Patch]:
    """The fact rows an event sets; [] for events no projection uses. Raises ValidationError on a
    malformed `data` of a known type (the consumer retries, then dead-letters it)."""
    found = _RULES.get(event.routing_key)
    if found is None:
        if event.routing_key == ChangeRejected.routing_key:
            rejected = event.data_as(ChangeRejected)
            values = {
                "finding_id": str(event.id),
                "kind": "cmdb_update_rejected",
                "change_id": rejected.change_id,
                "detected_at": rejected.rejected_at,
            }
            return [Patch(CMDB_FINDINGS, values, rejected.rejected_at, str(event.id))]
        if event.routing_key == SupplierTargetBreached.routing_key:
            breach = event.data_as(SupplierTargetBreached)
            values = breach.model_dump(exclude={"target", "actual"}) | {
                "breach_id": str(event.id),
                "target": breach.target,
                "actual": breach.actual,
            }
            return [Patch(SUPPLIER_BREACHES, values, breach.occurred_at, str(event.id))]
        return []
    cls, rule = found
    data = event.data_as(cls)
    at = _time_of(data, event)
    event_id = str(event.id)
    return [
        Patch(
            table, {k: v for k, v in values.items() if v is not None or table.columns.get(k) is Merge.KEY}, at, event_id
        )
        for table, values in rule(data)
    ]
