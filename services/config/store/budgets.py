"""Budgeting and accounting's tables: budgets, allocation rules (every version kept), finance's
actuals (one row per service charged, in integer cents), and the figures an allocation shares by
(a service's CIs, their latest samples of a capacity metric)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.items import CIStatus
from services.config.store.tables import (
    allocation_rule,
    budget,
    capacity_metric,
    capacity_sample,
    config_item,
    cost_actual,
)
from shared.db import page, where_given

INSERT_CHUNK = 1000


async def add_budget(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(budget.insert().values(**values))


async def get_budget(conn: AsyncConnection, budget_id: UUID) -> Any:
    return (await conn.execute(select(budget).where(budget.c.id == budget_id))).one_or_none()


async def budget_for_period(conn: AsyncConnection, service_id: UUID, start: date, end: date) -> Any:
    query = select(budget.c.id).where(
        budget.c.service_id == service_id, budget.c.period_start == start, budget.c.period_end == end
    )
    return (await conn.execute(query)).first()


async def budget_periods(conn: AsyncConnection, service_ids: Iterable[UUID]) -> list[Any]:
    """The period and currency of every budget of these services."""
    wanted = sorted(set(service_ids))
    rows: list[Any] = []
    for start in range(0, len(wanted), INSERT_CHUNK):
        query = select(budget.c.service_id, budget.c.period_start, budget.c.period_end, budget.c.currency).where(
            budget.c.service_id.in_(wanted[start : start + INSERT_CHUNK])
        )
        rows.extend((await conn.execute(query)).all())
    return rows


async def page_of_budgets(
    conn: AsyncConnection, *, service_id: UUID | None, limit: int, offset: int
) -> tuple[list[Any], int]:
    query = where_given(select(budget), budget, service_id=service_id)
    return await page(conn, query, budget.c.period_start.desc(), budget.c.id, limit=limit, offset=offset)


async def actual_currencies(conn: AsyncConnection, service_id: UUID, start: date, end: date) -> set[str]:
    query = (
        select(cost_actual.c.currency)
        .where(cost_actual.c.service_id == service_id, cost_actual.c.incurred_on.between(start, end))
        .distinct()
    )
    return set((await conn.execute(query)).scalars())


async def actual_cents_by_category(
    conn: AsyncConnection, service_id: UUID, currency: str, start: date, end: date
) -> dict[str, int]:
    """The sum of a service's actuals per category over the period (exact: integer cents)."""
    query = (
        select(cost_actual.c.category, func.sum(cost_actual.c.amount_cents))
        .where(
            cost_actual.c.service_id == service_id,
            cost_actual.c.currency == currency,
            cost_actual.c.incurred_on.between(start, end),
        )
        .group_by(cost_actual.c.category)
    )
    return {category: int(cents) for category, cents in (await conn.execute(query)).all()}


# ---------------------------------------------------------------------------- allocation rules


async def add_rule(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(allocation_rule.insert().values(**values))


async def latest_rule(conn: AsyncConnection, name: str) -> Any:
    query = (
        select(allocation_rule)
        .where(allocation_rule.c.name == name)
        .order_by(allocation_rule.c.version.desc())
        .limit(1)
    )
    return (await conn.execute(query)).first()


async def rule_version(conn: AsyncConnection, name: str, version: int) -> Any:
    query = select(allocation_rule).where(allocation_rule.c.name == name, allocation_rule.c.version == version)
    return (await conn.execute(query)).first()


async def page_of_rules(conn: AsyncConnection, *, name: str | None, limit: int, offset: int) -> tuple[list[Any], int]:
    """Every version of every rule (or of the one named), newest first within a name."""
    query = where_given(select(allocation_rule), allocation_rule, name=name)
    return await page(conn, query, allocation_rule.c.name, allocation_rule.c.version.desc(), limit=limit, offset=offset)


async def ci_counts(conn: AsyncConnection, service_ids: Sequence[UUID]) -> dict[UUID, int]:
    """How many CIs that are not retired belong to each service."""
    query = (
        select(config_item.c.service_id, func.count())
        .where(config_item.c.service_id.in_(list(service_ids)), config_item.c.status != CIStatus.RETIRED.value)
        .group_by(config_item.c.service_id)
    )
    return {service_id: int(count) for service_id, count in (await conn.execute(query)).all()}


async def usage_by_service(conn: AsyncConnection, metric: str, service_ids: Sequence[UUID]) -> dict[UUID, Decimal]:
    """Per service, the sum over its CIs (not retired) of each CI's latest sample of `metric`."""
    latest = (
        select(capacity_sample.c.ci_id, func.max(capacity_sample.c.at).label("at"))
        .join(capacity_metric, capacity_metric.c.id == capacity_sample.c.metric_id)
        .where(capacity_metric.c.name == metric)
        .group_by(capacity_sample.c.ci_id)
        .subquery()
    )
    query = (
        select(config_item.c.service_id, capacity_sample.c.value)
        .join(capacity_metric, capacity_metric.c.id == capacity_sample.c.metric_id)
        .join(latest, (latest.c.ci_id == capacity_sample.c.ci_id) & (latest.c.at == capacity_sample.c.at))
        .join(config_item, config_item.c.id == capacity_sample.c.ci_id)
        .where(
            capacity_metric.c.name == metric,
            config_item.c.service_id.in_(list(service_ids)),
            config_item.c.status != CIStatus.RETIRED.value,
        )
    )
    usage: dict[UUID, Decimal] = {}
    for service_id, value in (await conn.execute(query)).all():
        usage[service_id] = usage.get(service_id, Decimal(0)) + Decimal(repr(float(value)))
    return usage


async def metric_exists(conn: AsyncConnection, name: str) -> bool:
    return (await conn.execute(select(capacity_metric.c.id).where(capacity_metric.c.name == name))).first() is not None


# ----------------------------------------------------------------------------------- actuals


async def known_references(conn: AsyncConnection, references: Iterable[str]) -> set[str]:
    wanted = sorted(set(references))
    known: set[str] = set()
    for start in range(0, len(wanted), INSERT_CHUNK):
        chunk = wanted[start : start + INSERT_CHUNK]
        query = select(cost_actual.c.reference).where(cost_actual.c.reference.in_(chunk)).distinct()
        known.update((await conn.execute(query)).scalars())
    return known


async def add_actuals(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        await conn.execute(cost_actual.insert(), [dict(r) for r in rows[start : start + INSERT_CHUNK]])


async def page_of_actuals(
    conn: AsyncConnection, *, service_id: UUID | None, since: date | None, until: date | None, limit: int, offset: int
) -> tuple[list[Any], int]:
    query = where_given(select(cost_actual), cost_actual, service_id=service_id)
    if since is not None:
        query = query.where(cost_actual.c.incurred_on >= since)
    if until is not None:
        query = query.where(cost_actual.c.incurred_on <= until)
    return await page(
        conn, query, cost_actual.c.incurred_on, cost_actual.c.reference, cost_actual.c.id, limit=limit, offset=offset
    )
