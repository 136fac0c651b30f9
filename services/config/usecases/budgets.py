"""Budgeting actions (6.4): set a CI's cost attributes (a new version of the CI), record a
service's budget for a period, and report it: budget against actual against forecast."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from services.config.domain.budgets import CostCategory, Money, Period, budget_lines, budget_report, total
from services.config.domain.costs import CICost
from services.config.domain.items import ConfigItem
from services.config.domain.types import BUSINESS_SERVICE
from services.config.store import budgets as store
from services.config.store.items import ConfigItemRepository
from services.config.usecases.items import Edit, manual_or_change, update_step
from shared import clock
from shared.errors import Conflict, NotFound, RuleViolation, found
from shared.events.cost import BudgetCreated, BudgetLine
from shared.uow import UnitOfWork


def _text(money: Money | None) -> str | None:
    return None if money is None else str(money.amount)


async def set_ci_cost(ci_id: UUID, cost: CICost, edit: Edit, uow: UnitOfWork) -> ConfigItem:
    """The CI's `attributes.cost`, changed as any attribute is: a new version recording the
    difference, under an approved change when the CI is controlled, published as ci.updated.v1."""
    stored = {
        "category": cost.category.value,
        "currency": cost.currency,
        "purchase_cost": _text(cost.purchase_cost),
        "annual_run_cost": _text(cost.annual_run_cost),
        "licence_count": cost.licence_count,
        "cost_centre": cost.cost_centre,
    }
    async with uow:
        item = found(await ConfigItemRepository(uow.connection).get(ci_id), f"configuration item {ci_id}")
        attributes = {**item.attributes, "cost": stored}
        item = await update_step(uow, ci_id, {"attributes": attributes}, edit, manual_or_change(edit))
        await uow.commit()
    return item


async def create_budget(body: Mapping[str, Any], actor: str, uow: UnitOfWork) -> dict[str, Any]:
    currency = body["currency"]
    period = Period(body["period_start"], body["period_end"])
    named = [line["category"] for line in body["lines"]]
    if len(set(named)) != len(named):
        raise RuleViolation("a category has one line", field="lines")
    lines = budget_lines({str(line["category"]): Money(line["amount"], currency) for line in body["lines"]}, currency)
    async with uow:
        conn = uow.connection
        service = await ConfigItemRepository(conn).get(body["service_id"])
        if service is None or service.ci_type != BUSINESS_SERVICE:
            raise RuleViolation(f"{body['service_id']} is not a business service", field="service_id")
        if await store.budget_for_period(conn, service.id, period.start, period.end) is not None:
            raise Conflict(f"{service.name} has a budget for {period.start} to {period.end} already")
        others = await store.actual_currencies(conn, service.id, period.start, period.end) - {currency}
        if others:
            raise RuleViolation(
                f"the service's actuals in the period are in {', '.join(sorted(others))}: amounts are never converted",
                field="currency",
            )
        values = {
            "id": uuid4(),
            "service_id": service.id,
            "period_start": period.start,
            "period_end": period.end,
            "currency": currency,
            "lines": {category.value: int(money.amount * 100) for category, money in lines.items()},
            "created_at": clock.now(),
            "created_by": actor,
        }
        await store.add_budget(conn, values)
        answer = budget_answer(values)
        uow.emit(
            BudgetCreated(
                budget_id=values["id"],
                service_id=service.id,
                period_start=period.start,
                period_end=period.end,
                currency=currency,
                lines=[BudgetLine(category=line["category"], amount=line["amount"]) for line in answer["lines"]],
                total=answer["total"],
                created_at=values["created_at"],
                created_by=actor,
            ),
            subject=str(values["id"]),
        )
        await uow.commit()
    return answer


def _lines(cents: Mapping[str, int], currency: str) -> dict[CostCategory, Money]:
    return {CostCategory(name): Money(Decimal(c) / 100, currency) for name, c in cents.items()}


def budget_answer(row: Any) -> dict[str, Any]:
    """A stored budget (row or values) in the API's form: its lines in the categories' order."""
    plan = dict(row) if isinstance(row, Mapping) else row._asdict()
    lines = _lines(plan["lines"], plan["currency"])
    ordered = [c for c in CostCategory if c in lines]
    return {
        **plan,
        "lines": [{"category": c.value, "amount": lines[c].amount} for c in ordered],
        "total": total(lines.values(), plan["currency"]).amount,
    }


async def report(budget_id: UUID, as_of: date | None, uow: UnitOfWork) -> dict[str, Any]:
    """The budget against the service's actuals in its period incurred by `as_of` (default
    today), and the forecast they run to."""
    day = as_of or clock.now().date()
    async with uow:
        conn = uow.connection
        row = await store.get_budget(conn, budget_id)
        if row is None:
            raise NotFound(f"budget {budget_id}")
        until = min(row.period_end, day)  # what was incurred by then
        cents = await store.actual_cents_by_category(conn, row.service_id, row.currency, row.period_start, until)
    period = Period(row.period_start, row.period_end)
    lines = budget_report(_lines(row.lines, row.currency), _lines(cents, row.currency), period, day)
    return {
        "budget_id": row.id,
        "service_id": row.service_id,
        "period_start": row.period_start,
        "period_end": row.period_end,
        "as_of": day,
        "currency": row.currency,
        "lines": [
            {
                "category": line.category.value,
                "budget": line.budget.amount,
                "actual": line.actual.amount,
                "forecast": line.forecast.amount,
                "remaining": line.remaining.amount,
                "forecast_variance": line.forecast_variance.amount,
                "status": line.status.value,
            }
            for line in lines
        ],
        "budget": total((line.budget for line in lines), row.currency).amount,
        "actual": total((line.actual for line in lines), row.currency).amount,
        "forecast": total((line.forecast for line in lines), row.currency).amount,
    }
