"""Costs in reporting, pure: money as integer cents and back (nothing finer than a cent is taken),
config's forecast rule mirrored, what budget.created.v1 and cost.actual_recorded.v1 set in the fact
tables (through `patches_for`, as the consumer and the rebuild do), and the report's rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from services.reporting.domain import costs
from services.reporting.domain.costs import ACTUALS, BUDGET_LINES, BUDGETS, cents, cost_rows, forecast, money
from services.reporting.events import patches_for
from shared.events import new_event
from shared.events.cost import AllocatedPart, BudgetCreated, BudgetLine, CostActualRecorded, CostActualsImported

AT = datetime(2026, 12, 7, 12, tzinfo=UTC)
SVC, SVC2, BUDGET = uuid4(), uuid4(), uuid4()


def test_money_is_exact_integer_cents_and_back() -> None:
    assert cents(Decimal("1200.5")) == 120050
    assert cents(Decimal("-0.01")) == -1
    assert cents(Decimal("20")) == 2000
    assert money(120050) == Decimal("1200.50") and str(money(-1)) == "-0.01" and str(money(0)) == "0.00"
    for finer in ("0.001", "NaN", "Infinity"):
        with pytest.raises(ValueError, match="not an amount to the cent"):
            cents(Decimal(finer))


def test_the_forecast_is_configs_run_rate_rule() -> None:
    start, end = date(2026, 10, 1), date(2026, 10, 31)
    assert forecast(Decimal("700.00"), start, end, date(2026, 10, 7)) == Decimal("3100.00")
    assert forecast(Decimal("0.05"), start, end, date(2026, 10, 2)) == Decimal("0.78")  # 0.775 half to even
    assert forecast(Decimal("0.15"), start, end, date(2026, 10, 2)) == Decimal("2.32")  # 2.325 half to even
    assert forecast(Decimal("10.00"), start, end, date(2026, 9, 30)) == Decimal("10.00")  # not started
    assert forecast(Decimal("10.00"), start, end, date(2026, 10, 31)) == Decimal("10.00")  # ended


def test_a_budget_and_an_allocated_actual_set_their_facts() -> None:
    budget = BudgetCreated(
        budget_id=BUDGET,
        service_id=SVC,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        currency="EUR",
        lines=[BudgetLine(category="licence", amount=Decimal("1000.10"))],
        total=Decimal("1000.10"),
        created_at=AT,
        created_by="fiona",
    )
    patches = patches_for(new_event(budget, source="/itsm/config", subject=str(BUDGET), time=AT))
    assert [(p.table, dict(p.values)) for p in patches] == [
        (
            BUDGETS,
            {
                "budget_id": BUDGET,
                "service_id": SVC,
                "period_start": date(2026, 10, 1),
                "period_end": date(2026, 10, 31),
                "currency": "EUR",
                "total_cents": 100010,
                "created_at": AT,
            },
        ),
        (BUDGET_LINES, {"budget_id": BUDGET, "category": "licence", "amount_cents": 100010}),
    ]
    actual = CostActualRecorded(
        reference="FIN-9",
        import_id=uuid4(),
        category="shared",
        amount=Decimal("-0.03"),
        currency="EUR",
        incurred_on=date(2026, 10, 2),
        allocation_rule="hosting",
        allocation_version=2,
        parts=[
            AllocatedPart(service_id=SVC, amount=Decimal("-0.02")),
            AllocatedPart(service_id=SVC2, amount=Decimal("-0.01")),
        ],
    )
    patches = patches_for(new_event(actual, source="/itsm/config", subject="FIN-9", time=AT))
    common = {"reference": "FIN-9", "category": "shared", "currency": "EUR", "incurred_on": date(2026, 10, 2)}
    common |= {"allocation_rule": "hosting", "allocation_version": 2}
    assert [(p.table, dict(p.values)) for p in patches] == [
        (ACTUALS, {**common, "service_id": SVC, "amount_cents": -2}),
        (ACTUALS, {**common, "service_id": SVC2, "amount_cents": -1}),
    ]
    imported = CostActualsImported(import_id=uuid4(), rows=1, accepted=1, refused=0, imported_at=AT, imported_by="f")
    assert patches_for(new_event(imported, source="/itsm/config", subject="x", time=AT)) == []  # kept in the log only


def _budget(service: object, currency: str, start: date = date(2026, 10, 1)) -> dict[str, object]:
    return {
        "budget_id": uuid4(),
        "service_id": service,
        "period_start": start,
        "period_end": date(2026, 10, 31),
        "currency": currency,
    }


def test_rows_order_categories_as_config_and_never_add_two_currencies() -> None:
    eur, usd = _budget(SVC, "EUR"), _budget(SVC2, "USD")
    lines = {eur["budget_id"]: {"opex": 1000, "asset": 500}, usd["budget_id"]: {"licence": 100}}
    spent = {eur["budget_id"]: {"zzz_new": 250, "asset": 600}}  # a category config may add later comes last
    rows, totals = cost_rows([usd, eur], lines, spent, {str(SVC): "Alpha", str(SVC2): "Beta"}, date(2026, 10, 31))
    assert [(r["service_name"], r["scope"], r["category"], r["status"]) for r in rows] == [
        ("Alpha", "service", None, "within"),  # 8.50 of 15.00, the period ended
        ("Alpha", "category", "asset", "over"),
        ("Alpha", "category", "opex", "within"),
        ("Alpha", "category", "zzz_new", "over"),
        ("Beta", "service", None, "within"),
        ("Beta", "category", "licence", "within"),
    ]
    assert rows[0]["budget"] == Decimal("15.00") and rows[0]["actual"] == Decimal("8.50")
    assert rows[0]["variance"] == Decimal("-6.50")
    assert totals["currency"] is None and totals["budget"] is None and totals["actual"] is None  # EUR and USD
    assert (totals["budgets"], totals["over"], totals["within"]) == (2, 0, 2)
    assert costs.DEFINITION["name"] == "costs" and list(rows[0]) == list(costs.DEFINITION["columns"])
