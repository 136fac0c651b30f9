"""Performance figures recorded from consumed events, and the queries a scorecard reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier.domain.performance import Measurement, ResolvedIncident, period_of
from services.supplier.store.tables import (
    contract_change,
    contract_incident,
    contract_sla_breach,
    target_breach,
)
from shared.db import insert_ignoring_duplicates, upsert_statement


async def count_incident(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Count an incident toward a contract (once: a second count of the same pair changes nothing)."""
    await conn.execute(insert_ignoring_duplicates(contract_incident, values), values)


async def counted_incident(conn: AsyncConnection, contract_id: UUID, incident_id: UUID) -> Any:
    t = contract_incident
    return (await conn.execute(select(t).where(t.c.contract_id == contract_id, t.c.incident_id == incident_id))).first()


async def contracts_counting(conn: AsyncConnection, incident_id: UUID) -> list[UUID]:
    t = contract_incident
    return list(await conn.scalars(select(t.c.contract_id).where(t.c.incident_id == incident_id)))


async def record_resolution(
    conn: AsyncConnection,
    contract_id: UUID,
    incident_id: UUID,
    *,
    priority: int,
    opened_at: datetime,
    first_response_at: datetime | None,
    resolved_at: datetime,
    period: str,
    measured: Measurement,
) -> None:
    t = contract_incident
    await conn.execute(
        update(t)
        .where(t.c.contract_id == contract_id, t.c.incident_id == incident_id)
        .values(
            priority=priority,
            opened_at=opened_at,
            opened_period=period_of(opened_at),
            first_response_at=first_response_at,
            resolved_at=resolved_at,
            resolved_period=period,
            response_s=measured.response_s,
            resolution_s=measured.resolution_s,
            response_breached=measured.response_breached,
            resolution_breached=measured.resolution_breached,
        )
    )


async def reopen(conn: AsyncConnection, incident_id: UUID) -> None:
    """A reopened incident is unresolved again until its next resolution (which is measured anew)."""
    t = contract_incident
    await conn.execute(
        update(t)
        .where(t.c.incident_id == incident_id)
        .values(
            resolved_at=None,
            resolved_period=None,
            response_s=None,
            resolution_s=None,
            response_breached=False,
            resolution_breached=False,
        )
    )


async def claim_breach(conn: AsyncConnection, contract_id: UUID, incident_id: UUID, metric: str, at: datetime) -> bool:
    """The exactly-once key of `supplier.target_breached.v1`: False when already raised."""
    values = {"contract_id": contract_id, "incident_id": incident_id, "metric": metric, "at": at}
    stmt = insert_ignoring_duplicates(target_breach, values, returning="metric")
    return (await conn.execute(stmt, values)).first() is not None


async def record_change(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """The change's outcome on a contract's CIs; a later outcome of the same change replaces it."""
    stmt = upsert_statement(
        contract_change, values, key=("contract_id", "change_id"), updating=("outcome", "at", "period")
    )
    await conn.execute(stmt, values)


async def record_sla_breach(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert_ignoring_duplicates(contract_sla_breach, values), values)


@dataclass(frozen=True)
class ContractFigures:
    """What was recorded for one contract and period."""

    opened: int
    resolved: list[ResolvedIncident]
    change_outcomes: list[str]
    sla_breaches: int


async def figures(
    conn: AsyncConnection, contract_ids: Iterable[UUID], periods: list[str]
) -> dict[tuple[UUID, str], ContractFigures]:
    """Per (contract, period): incidents opened, incidents resolved with their times, change
    outcomes and customer SLA breaches. Four queries whatever the number of contracts."""
    ids = list(contract_ids)
    out: dict[tuple[UUID, str], ContractFigures] = {}
    if not ids or not periods:
        return out
    ci = contract_incident
    opened: dict[tuple[UUID, str], int] = {
        (row.contract_id, row.opened_period): int(row.n)
        for row in await conn.execute(
            select(ci.c.contract_id, ci.c.opened_period, func.count().label("n"))
            .where(ci.c.contract_id.in_(ids), ci.c.opened_period.in_(periods))
            .group_by(ci.c.contract_id, ci.c.opened_period)
        )
    }
    resolved: dict[tuple[UUID, str], list[ResolvedIncident]] = {}
    for row in await conn.execute(select(ci).where(ci.c.contract_id.in_(ids), ci.c.resolved_period.in_(periods))):
        resolved.setdefault((row.contract_id, row.resolved_period), []).append(
            ResolvedIncident(
                priority=row.priority,
                response_s=row.response_s,
                resolution_s=row.resolution_s,
                response_breached=row.response_breached,
                resolution_breached=row.resolution_breached,
            )
        )
    changes: dict[tuple[UUID, str], list[str]] = {}
    cc = contract_change
    for row in await conn.execute(
        select(cc.c.contract_id, cc.c.period, cc.c.outcome).where(cc.c.contract_id.in_(ids), cc.c.period.in_(periods))
    ):
        changes.setdefault((row.contract_id, row.period), []).append(row.outcome)
    sb = contract_sla_breach
    sla: dict[tuple[UUID, str], int] = {
        (row.contract_id, row.period): int(row.n)
        for row in await conn.execute(
            select(sb.c.contract_id, sb.c.period, func.count().label("n"))
            .where(sb.c.contract_id.in_(ids), sb.c.period.in_(periods))
            .group_by(sb.c.contract_id, sb.c.period)
        )
    }
    for key in set(opened) | set(resolved) | set(changes) | set(sla):
        out[key] = ContractFigures(opened.get(key, 0), resolved.get(key, []), changes.get(key, []), sla.get(key, 0))
    return out
