"""Supplier performance: consumed incident, SLA and change events counted toward contracts, and
the scorecard read from those counts.

Which contracts an incident counts toward: the contracts in force that cover its CI or its
service, and, when the incident is assigned to a supplier (`supplier_id` on the event), that
supplier's contract in force. One contract per supplier: the one covering the CI, else the
service, else the supplier's longest-active contract, so an incident is never counted twice for
one supplier. The contracts are fixed when the incident is first seen (or when it is assigned to
a supplier) and kept through resolution, whatever happens to the contract meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier.domain.contracts import Contract, ContractStatus
from services.supplier.domain.performance import (
    PriorityFigures,
    Totals,
    by_priority,
    measure,
    period_of,
    previous_periods,
    summarise,
)
from services.supplier.domain.suppliers import Supplier
from services.supplier.store import performance as figures_store
from services.supplier.store.contracts import ContractRepository, contracts_of, in_force_covering
from services.supplier.store.suppliers import subcontractors_below
from services.supplier.usecases.suppliers import require_supplier
from shared.events.change import ChangeFailed, ChangeImplemented
from shared.events.incident import IncidentAssigned, IncidentCreated, IncidentReopened, IncidentResolved, SlaBreached
from shared.events.supplier import SupplierTargetBreached
from shared.uow import UnitOfWork

# ---------------------------------------------------------------------------- counting


def choose_contracts(
    candidates: Sequence[Contract], *, ci_id: UUID | None, service_id: UUID | None, supplier_id: UUID | None
) -> list[Contract]:
    """One contract per supplier among those in force that match (see the module docstring)."""

    def rank(c: Contract) -> int:
        if ci_id is not None and ci_id in c.ci_ids:
            return 0
        if service_id is not None and service_id in c.service_ids:
            return 1
        return 2 if c.supplier_id == supplier_id else 3

    chosen: dict[UUID, Contract] = {}
    for contract in candidates:  # oldest activation first: a stable choice among equals
        if rank(contract) == 3:
            continue
        best = chosen.get(contract.supplier_id)
        if best is None or rank(contract) < rank(best):
            chosen[contract.supplier_id] = contract
    return sorted(chosen.values(), key=lambda c: c.number)


async def _matching(
    conn: AsyncConnection, *, ci_id: UUID | None, service_id: UUID | None, supplier_id: UUID | None
) -> list[Contract]:
    candidates = await in_force_covering(
        conn,
        ci_ids=[ci_id] if ci_id else [],
        service_ids=[service_id] if service_id else [],
        supplier_id=supplier_id,
    )
    return choose_contracts(candidates, ci_id=ci_id, service_id=service_id, supplier_id=supplier_id)


async def _count(
    conn: AsyncConnection,
    contracts: Sequence[Contract],
    *,
    incident_id: UUID,
    number: str,
    priority: int,
    opened_at: datetime,
) -> None:
    for contract in contracts:
        await figures_store.count_incident(
            conn,
            {
                "contract_id": contract.id,
                "incident_id": incident_id,
                "supplier_id": contract.supplier_id,
                "incident_number": number,
                "priority": priority,
                "opened_at": opened_at,
                "opened_period": period_of(opened_at),
                "response_breached": False,
                "resolution_breached": False,
            },
        )


async def on_incident_created(data: IncidentCreated, uow: UnitOfWork) -> None:
    conn = uow.connection
    contracts = await _matching(conn, ci_id=data.ci_id, service_id=data.service_id, supplier_id=data.supplier_id)
    await _count(
        conn,
        contracts,
        incident_id=data.incident_id,
        number=data.number,
        priority=data.priority,
        opened_at=data.opened_at,
    )


async def on_incident_assigned(data: IncidentAssigned, uow: UnitOfWork) -> None:
    """An incident handed to a supplier counts toward that supplier's contract from now on.
    The assigned event does not carry `opened_at`: the assignment time stands in until the
    resolution brings the real one."""
    if data.supplier_id is None:
        return
    conn = uow.connection
    counted = set(await figures_store.contracts_counting(conn, data.incident_id))
    contracts = await _matching(conn, ci_id=data.ci_id, service_id=data.service_id, supplier_id=data.supplier_id)
    fresh = [c for c in contracts if c.supplier_id == data.supplier_id and c.id not in counted]
    await _count(
        conn,
        fresh,
        incident_id=data.incident_id,
        number=data.number,
        priority=data.priority,
        opened_at=data.occurred_at,
    )


async def on_incident_resolved(data: IncidentResolved, uow: UnitOfWork) -> None:
    """Measure the incident against each contract it counts toward; a late response or
    resolution raises `supplier.target_breached.v1`, once per contract, incident and metric."""
    conn = uow.connection
    contract_ids = await figures_store.contracts_counting(conn, data.incident_id)
    if not contract_ids:  # first seen now (created before the contract, or its event was missed)
        contracts = await _matching(conn, ci_id=data.ci_id, service_id=data.service_id, supplier_id=data.supplier_id)
        await _count(
            conn,
            contracts,
            incident_id=data.incident_id,
            number=data.number,
            priority=data.priority,
            opened_at=data.opened_at,
        )
        contract_ids = [c.id for c in contracts]
    repository = ContractRepository(conn)
    period = period_of(data.resolved_at)
    for contract_id in contract_ids:
        contract = await repository.get(contract_id)
        if contract is None:
            continue
        measured = measure(
            opened_at=data.opened_at,
            first_response_at=data.first_response_at,
            resolved_at=data.resolved_at,
            target=contract.target_for(data.priority),
        )
        await figures_store.record_resolution(
            conn,
            contract_id,
            data.incident_id,
            priority=data.priority,
            opened_at=data.opened_at,
            first_response_at=data.first_response_at,
            resolved_at=data.resolved_at,
            period=period,
            measured=measured,
        )
        late = [
            ("response", measured.response_breached, measured.response_target_s, measured.response_s),
            ("resolution", measured.resolution_breached, measured.resolution_target_s, measured.resolution_s),
        ]
        for metric, breached, target, actual in late:
            if not breached or target is None or actual is None:
                continue
            if await figures_store.claim_breach(conn, contract_id, data.incident_id, metric, data.resolved_at):
                uow.emit(
                    SupplierTargetBreached(
                        supplier_id=contract.supplier_id,
                        contract_id=contract_id,
                        metric="response" if metric == "response" else "resolution",
                        priority=data.priority,
                        target=float(target),
                        actual=actual,
                        incident_id=data.incident_id,
                        period=period,
                        occurred_at=data.resolved_at,
                    ),
                    subject=str(contract.supplier_id),
                )


async def on_incident_reopened(data: IncidentReopened, uow: UnitOfWork) -> None:
    await figures_store.reopen(uow.connection, data.incident_id)


async def on_sla_breached(data: SlaBreached, uow: UnitOfWork) -> None:
    """A customer SLA target missed on a ticket the supplier works on: shown beside the
    contract's own targets (the customer's clock counts business hours, the contract's does not)."""
    conn = uow.connection
    contract_ids = await figures_store.contracts_counting(conn, data.ticket_id)
    if not contract_ids:
        contracts = await _matching(conn, ci_id=data.ci_id, service_id=data.service_id, supplier_id=data.supplier_id)
        contract_ids = [c.id for c in contracts]
    repository = ContractRepository(conn)
    for contract_id in contract_ids:
        contract = await repository.get(contract_id)
        if contract is None:
            continue
        await figures_store.record_sla_breach(
            conn,
            {
                "contract_id": contract_id,
                "ticket_id": data.ticket_id,
                "target": data.target,
                "supplier_id": contract.supplier_id,
                "period": period_of(data.occurred_at),
                "occurred_at": data.occurred_at,
            },
        )


async def on_change_outcome(data: ChangeImplemented | ChangeFailed, uow: UnitOfWork) -> None:
    """A change implemented (or failed) on CIs or services a contract in force covers."""
    conn = uow.connection
    if isinstance(data, ChangeImplemented):
        outcome, at = "implemented", data.implemented_at
    else:
        outcome, at = "failed", data.occurred_at
    contracts = await in_force_covering(
        conn, ci_ids=data.affected_ci_ids, service_ids=data.service_ids, supplier_id=None
    )
    for contract in contracts:
        await figures_store.record_change(
            conn,
            {
                "contract_id": contract.id,
                "change_id": data.change_id,
                "supplier_id": contract.supplier_id,
                "change_number": data.number,
                "outcome": outcome,
                "at": at,
                "period": period_of(at),
            },
        )


# ---------------------------------------------------------------------------- scorecard


@dataclass(frozen=True)
class ContractCard:
    contract: Contract
    lines: list[PriorityFigures]
    totals: Totals


@dataclass(frozen=True)
class SupplierTotals:
    supplier: Supplier
    totals: Totals


@dataclass(frozen=True)
class Scorecard:
    supplier: Supplier
    period: str
    contracts: list[ContractCard]
    totals: Totals
    trend: list[tuple[str, Totals]]
    subcontractors: list[SupplierTotals]
    rollup: Totals
    rollup_trend: list[tuple[str, Totals]]


NOT_MEASURED = frozenset({ContractStatus.DRAFT, ContractStatus.CANCELLED})


async def scorecard(conn: AsyncConnection, supplier_id: UUID, period: str, trend_periods: int) -> Scorecard:
    """Targets against actuals per contract for `period`, the supplier's totals for the periods
    before it (trend), and the roll-up of every sub-contractor below it into a lead's figures."""
    supplier = await require_supplier(conn, supplier_id)
    below = await subcontractors_below(conn, supplier_id)
    everyone = [supplier, *below]
    earlier = previous_periods(period, trend_periods)
    periods = [*earlier, period]
    contracts = [c for c in await contracts_of(conn, [s.id for s in everyone]) if c.status not in NOT_MEASURED]
    recorded = await figures_store.figures(conn, [c.id for c in contracts], periods)

    def totals(of: Sequence[Contract], p: str) -> Totals:
        result = Totals()
        for c in of:
            f = recorded.get((c.id, p))
            if f is not None:
                result = result + summarise(
                    opened=f.opened, resolved=f.resolved, changes=f.change_outcomes, sla_breaches=f.sla_breaches
                )
        return result

    by_supplier = {s.id: [c for c in contracts if c.supplier_id == s.id] for s in everyone}
    own = by_supplier[supplier.id]
    cards = []
    for c in own:
        f = recorded.get((c.id, period))
        cards.append(ContractCard(c, by_priority(c.targets, f.resolved if f else []), totals([c], period)))
    return Scorecard(
        supplier=supplier,
        period=period,
        contracts=cards,
        totals=totals(own, period),
        trend=[(p, totals(own, p)) for p in earlier],
        subcontractors=[SupplierTotals(s, totals(by_supplier[s.id], period)) for s in below],
        rollup=totals(contracts, period),
        rollup_trend=[(p, totals(contracts, p)) for p in earlier],
    )
