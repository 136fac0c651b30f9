"""Budgeting and accounting (ISO/IEC 20000-1 6.4) in reporting, pure: the fact tables config's
`budget.created.v1` and `cost.actual_recorded.v1` set, what each sets in them, and the rows of the
`costs` report (each service's budget for a period against its actuals, per cost category, with
the forecast config's budget report gives).

Money stays exact: the facts hold integer cents (exact on PostgreSQL and SQLite, summed in SQL
as integers), the rows `Decimal`s to the cent, each beside its currency (the report's JSON and CSV
write them as strings such as "1200.50"); a float never holds an amount, and two currencies are
never added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from uuid import UUID

from services.reporting.domain.facts import FactTable, Merge
from shared.events.cost import BudgetCreated, CostActualRecorded

K, F = Merge.KEY, Merge.FILL
Row = Mapping[str, Any]
Result = tuple[list[dict[str, Any]], dict[str, Any]]
Facts = list[tuple[FactTable, dict[str, Any]]]

CENT = Decimal("0.01")
CATEGORIES = ("asset", "licence", "shared", "overhead", "capex", "opex", "external", "personnel", "facility")
"""config: domain/budgets.py's CostCategory, in its order (the report's lines follow it; a category
this list does not know comes after, by name)."""

BUDGETS = FactTable(
    "budget_facts",
    {
        "budget_id": K,
        "service_id": F,
        "period_start": F,
        "period_end": F,
        "currency": F,
        "total_cents": F,
        "created_at": F,
    },
)
"""A service's budget for a period (both days included): config records it once and never changes it."""
BUDGET_LINES = FactTable("budget_line_facts", {"budget_id": K, "category": K, "amount_cents": F})
ACTUALS = FactTable(
    "cost_actual_facts",
    {
        "reference": K,
        "service_id": K,
        "category": F,
        "amount_cents": F,
        "currency": F,
        "incurred_on": F,
        "allocation_rule": F,
        "allocation_version": F,
    },
)
"""What one of finance's costs (its `reference`, imported once) charged one service: the whole
amount, or its part of an allocated one. A correction is a cost of its own, negative for a credit."""
FACT_TABLES = (BUDGETS, BUDGET_LINES, ACTUALS)


def cents(amount: Decimal) -> int:
    """An amount to the cent as integer cents; anything finer is refused (never rounded away)."""
    scaled = amount.scaleb(2)
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} is not an amount to the cent")
    return int(scaled)


def money(amount_cents: int) -> Decimal:
    """Integer cents as the amount, two places ("20.00", "-0.50")."""
    return Decimal(amount_cents).scaleb(-2).quantize(CENT)


def budget_created(data: BudgetCreated) -> Facts:
    budget = {
        "budget_id": data.budget_id,
        "service_id": data.service_id,
        "period_start": data.period_start,
        "period_end": data.period_end,
        "currency": data.currency,
        "total_cents": cents(data.total),
        "created_at": data.created_at,
    }
    lines = [
        (BUDGET_LINES, {"budget_id": data.budget_id, "category": line.category, "amount_cents": cents(line.amount)})
        for line in data.lines
    ]
    return [(BUDGETS, budget), *lines]


def actual_recorded(data: CostActualRecorded) -> Facts:
    """One row per service charged (the parts of an allocated cost, or the one service's whole)."""
    common = {
        "reference": data.reference,
        "category": data.category,
        "currency": data.currency,
        "incurred_on": data.incurred_on,
        "allocation_rule": data.allocation_rule,
        "allocation_version": data.allocation_version,
    }
    return [(ACTUALS, {**common, "service_id": p.service_id, "amount_cents": cents(p.amount)}) for p in data.parts]


RULES: dict[type, Any] = {BudgetCreated: budget_created, CostActualRecorded: actual_recorded}
"""Event class -> what it sets in the fact tables. cost.allocation_rule_recorded.v1 and
cost.actuals_imported.v1 are kept in the event log only: the report reads the parts each actual
charged, which carry the rule's name and version."""

# The report's definition, as definitions.py's DEFINITIONS takes it.

DEFINITION: dict[str, Any] = {
    "name": "costs",
    "title": "Cost per service: budget against actual",
    "purpose": (
        "Budgeting and accounting for services (6.4): each service's budget for a period against the costs "
        "finance reported for it (allocated shares included), per cost category, with the forecast at the run "
        "rate so far and whether it is within, at risk or over"
    ),
    "audience": ("service owners", "finance", "top management"),
    "frequency": "monthly",
    "data_source": "budget.created.v1 and cost.actual_recorded.v1 (config's budgets and finance's actuals), "
    "ci.* for names",
    "filters": ("from", "to", "service_id"),
    "period_applies_to": (
        "the budgets whose period overlaps the window (each budget whole: its period is not cut to the window); "
        "the actuals counted are the service's, in the budget's currency, incurred in its period by the day the "
        "report is produced"
    ),
    "columns": {
        "period_start": "the budget period's first day (YYYY-MM-DD)",
        "period_end": "its last day (included)",
        "service_id": "the service",
        "service_name": "the service's name from the CMDB, when known",
        "scope": "service (the whole budget: one row per service and period), then category (one per line)",
        "category": "the cost category (category rows): budgeted, or spent on with no budget line",
        "currency": "ISO 4217 code of the budget (amounts are never converted)",
        "budget": "the budget (service rows: the sum of the lines), to the cent",
        "actual": "the actuals (corrections and credits included, with their sign), to the cent",
        "variance": "actual - budget (positive: over the budget)",
        "forecast": "actual x period days / days elapsed, half to even to the cent; the actual before the "
        "period starts and once it has ended (service rows: the sum of the lines' forecasts)",
        "forecast_variance": "forecast - budget (positive: heading over the budget)",
        "status": "over (actual above budget), at_risk (forecast above budget) or within",
    },
}


def forecast(actual: Decimal, start: date, end: date, as_of: date) -> Decimal:
    """config's rule (domain/budgets.py `forecast`): the period's cost at the run rate so far."""
    days = (end - start).days + 1
    elapsed = 0 if as_of < start else min(days, (as_of - start).days + 1)
    if elapsed == 0 or elapsed >= days:
        return actual
    return (actual * days / elapsed).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _status(budget: Decimal, actual: Decimal, projected: Decimal) -> str:
    if actual > budget:
        return "over"
    return "at_risk" if projected > budget else "within"


def _figures(budget: Decimal, actual: Decimal, projected: Decimal) -> dict[str, Any]:
    return {
        "budget": budget,
        "actual": actual,
        "variance": actual - budget,
        "forecast": projected,
        "forecast_variance": projected - budget,
        "status": _status(budget, actual, projected),
    }


def _order(category: str) -> tuple[int, str]:
    return (CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES), category)


def cost_rows(
    budgets: Sequence[Row],
    lines: Mapping[UUID, Mapping[str, int]],
    actuals: Mapping[UUID, Mapping[str, int]],
    names: Mapping[str, str],
    as_of: date,
) -> Result:
    """Per budget a service row, then a row per category budgeted or spent on (a cost with no line
    has a zero budget), in the categories' order; budgets by period, then service name.
    `lines` and `actuals`: cents by budget and category (actuals: incurred by `as_of`)."""
    rows: list[dict[str, Any]] = []
    ordered = sorted(
        budgets,
        key=lambda b: (b["period_start"], names.get(str(b["service_id"]), ""), str(b["service_id"]), b["period_end"]),
    )
    for b in ordered:
        planned, spent = lines.get(b["budget_id"], {}), actuals.get(b["budget_id"], {})
        service = str(b["service_id"])
        head = {
            "period_start": b["period_start"].isoformat(),
            "period_end": b["period_end"].isoformat(),
            "service_id": service,
            "service_name": names.get(service),
        }
        parts = []
        for category in sorted({*planned, *spent}, key=_order):
            actual = money(spent.get(category, 0))
            projected = forecast(actual, b["period_start"], b["period_end"], as_of)
            figures = _figures(money(planned.get(category, 0)), actual, projected)
            parts.append({**head, "scope": "category", "category": category, "currency": b["currency"], **figures})
        whole = _figures(
            sum((p["budget"] for p in parts), Decimal("0.00")),
            sum((p["actual"] for p in parts), Decimal("0.00")),
            sum((p["forecast"] for p in parts), Decimal("0.00")),
        )
        rows += [{**head, "scope": "service", "category": None, "currency": b["currency"], **whole}, *parts]
    services = [r for r in rows if r["scope"] == "service"]
    currencies = {r["currency"] for r in services}
    single = len(currencies) == 1
    totals: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "budgets": len(services),
        "over": sum(1 for r in services if r["status"] == "over"),
        "at_risk": sum(1 for r in services if r["status"] == "at_risk"),
        "within": sum(1 for r in services if r["status"] == "within"),
        "currency": next(iter(currencies)) if single else None,
    }
    for name in ("budget", "actual", "variance", "forecast"):
        totals[name] = sum((r[name] for r in services), Decimal("0.00")) if single else None
    return rows, totals
