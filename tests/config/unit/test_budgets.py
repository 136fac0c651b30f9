"""Budgeting and accounting (6.4), the pure rules: money, the exact split of a shared cost, and
budget against actual against forecast. Every expectation is worked out by hand in its comment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from services.config.domain.budgets import (
    CostCategory,
    LineStatus,
    Money,
    Period,
    budget_lines,
    budget_report,
    forecast,
)
from services.config.domain.costs import (
    AllocationBasis,
    AllocationRule,
    allocate,
    ci_cost,
    read_actual,
    validate_rule,
    weights,
)
from shared.errors import RuleViolation

A, B, C = (UUID(int=n) for n in (1, 2, 3))


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def field_of(error: RuleViolation) -> str:
    return str(error.extensions["errors"][0]["field"])


# ---------------------------------------------------------------------------------------- money


def test_money_adds_exactly_and_keeps_cents() -> None:
    # 0.1 + 0.2 is 0.30 exactly (a float gives 0.30000000000000004)
    assert eur("0.10") + eur("0.20") == eur("0.30")
    assert (eur("0.10") + eur("0.20")).amount == Decimal("0.30")
    assert Money(Decimal("20"), "EUR").amount.as_tuple().exponent == -2  # held as 20.00


def test_mismatched_currencies_are_refused() -> None:
    with pytest.raises(RuleViolation) as refused:
        eur("10.00") + Money(Decimal("10.00"), "USD")
    assert field_of(refused.value) == "currency"
    with pytest.raises(RuleViolation):
        eur("10.00") - Money(Decimal("1.00"), "GBP")


@pytest.mark.parametrize("text", ["1.005", "abc", "NaN", "Infinity", "1e30", "100000000000000.00"])
def test_amounts_that_are_not_cents_are_refused(text: str) -> None:
    with pytest.raises(RuleViolation) as refused:
        Money.parse(text, "EUR")
    assert field_of(refused.value) == "amount"


def test_parse_reads_finance_amounts() -> None:
    assert Money.parse(" -20 ", "EUR") == eur("-20.00")
    assert Money.parse("1234.5", "EUR").amount == Decimal("1234.50")
    with pytest.raises(RuleViolation) as refused:
        Money.parse("1.00", "eur")
    assert field_of(refused.value) == "currency"


# ------------------------------------------------------------------------------------ allocation


def test_an_equal_three_way_split_gives_the_odd_cent_to_the_first() -> None:
    # 100.00 = 10,000 cents; each exact share is 3,333.33..., rounded down 3,333 (9,999 in all);
    # the one cent left goes to the first of the equal losers (the rule's order): A
    parts = allocate(eur("100.00"), [(A, Decimal(1)), (B, Decimal(1)), (C, Decimal(1))])
    assert parts == [(A, eur("33.34")), (B, eur("33.33")), (C, eur("33.33"))]


def test_the_left_over_cents_go_to_the_largest_remainders() -> None:
    # 10.00 by weights 1, 2, 4 (of 7): exact 142.857, 285.714, 571.428 cents; rounded down 142,
    # 285, 571 (998); remainders .857, .714, .428: the two cents left go to A then B
    parts = allocate(eur("10.00"), [(A, Decimal(1)), (B, Decimal(2)), (C, Decimal(4))])
    assert parts == [(A, eur("1.43")), (B, eur("2.86")), (C, eur("5.71"))]
    assert sum((m.amount for _, m in parts), Decimal(0)) == Decimal("10.00")


def test_a_credit_splits_like_a_cost_with_its_sign() -> None:
    # -0.05 = 5 cents by 50/50: 2.5 each, rounded down 2 and 2, the cent left to A: -0.03, -0.02
    parts = allocate(eur("-0.05"), [(A, Decimal(50)), (B, Decimal(50))])
    assert parts == [(A, eur("-0.03")), (B, eur("-0.02"))]


def test_nothing_to_allocate_by_is_refused() -> None:
    with pytest.raises(RuleViolation) as refused:
        allocate(eur("5.00"), [(A, Decimal(0)), (B, Decimal(0))])
    assert field_of(refused.value) == "allocation_rule"


def test_weights_by_basis() -> None:
    fixed = AllocationRule("hosting", 1, AllocationBasis.FIXED_PERCENT, (A, B), {A: Decimal(70), B: Decimal(30)}, None)
    by_cis = AllocationRule("hosting", 2, AllocationBasis.CI_COUNT, (A, B, C), {}, None)
    by_use = AllocationRule("network", 1, AllocationBasis.USAGE, (A, B), {}, "bandwidth")
    assert weights(fixed, {}, {}) == [(A, Decimal(70)), (B, Decimal(30))]
    assert weights(by_cis, {A: 3, B: 1}, {}) == [(A, Decimal(3)), (B, Decimal(1)), (C, Decimal(0))]
    assert weights(by_use, {}, {B: Decimal("2.5")}) == [(A, Decimal(0)), (B, Decimal("2.5"))]
    # 1,000.00 by CI count 3:1:0 is 750.00, 250.00 and nothing
    split = allocate(eur("1000.00"), weights(by_cis, {A: 3, B: 1}, {}))
    assert split == [(A, eur("750.00")), (B, eur("250.00")), (C, eur("0.00"))]


@pytest.mark.parametrize(
    ("basis", "services", "percents", "metric", "field"),
    [
        (AllocationBasis.FIXED_PERCENT, [A, B], {A: Decimal(60), B: Decimal(30)}, None, "percents"),
        (AllocationBasis.FIXED_PERCENT, [A, B], {A: Decimal(100)}, None, "percents"),
        (AllocationBasis.FIXED_PERCENT, [A], {A: Decimal(0)}, None, f"percents.{A}"),
        (AllocationBasis.CI_COUNT, [A, A], {}, None, "service_ids"),
        (AllocationBasis.CI_COUNT, [], {}, None, "service_ids"),
        (AllocationBasis.CI_COUNT, [A], {A: Decimal(100)}, None, "percents"),
        (AllocationBasis.USAGE, [A], {}, None, "metric"),
        (AllocationBasis.CI_COUNT, [A], {}, "cpu", "metric"),
    ],
)
def test_a_rule_that_cannot_share_is_refused(
    basis: AllocationBasis, services: list[UUID], percents: dict[UUID, Decimal], metric: str | None, field: str
) -> None:
    with pytest.raises(RuleViolation) as refused:
        validate_rule("hosting", basis, services, percents, metric)
    assert field_of(refused.value) == field


def test_percentages_summing_to_exactly_100_pass() -> None:
    validate_rule(
        "hosting",
        AllocationBasis.FIXED_PERCENT,
        [A, B, C],
        {A: Decimal("33.33"), B: Decimal("33.33"), C: Decimal("33.34")},
        None,
    )


# ----------------------------------------------------------------------- budget, actual, forecast


def test_forecast_runs_the_actual_at_its_rate_to_the_end_of_the_period() -> None:
    quarter = Period(date(2027, 1, 1), date(2027, 3, 31))  # 31 + 28 + 31 = 90 days
    # on 15 January 15 days have gone: 1,000.00 x 90 / 15 = 6,000.00
    assert forecast(eur("1000.00"), quarter, date(2027, 1, 15)) == eur("6000.00")
    # on 7 January 7 days: 100.00 x 90 / 7 = 1,285.714285... -> 1,285.71
    assert forecast(eur("100.00"), quarter, date(2027, 1, 7)) == eur("1285.71")
    # 0.05 x 90 / 36 = 0.125: half to even, 0.12
    assert forecast(eur("0.05"), quarter, date(2027, 2, 5)) == eur("0.12")
    assert forecast(eur("500.00"), quarter, date(2026, 12, 1)) == eur("500.00")  # not begun
    assert forecast(eur("500.00"), quarter, date(2027, 6, 1)) == eur("500.00")  # over: the actual


def test_the_report_compares_budget_actual_and_forecast_per_category() -> None:
    quarter = Period(date(2027, 1, 1), date(2027, 3, 31))
    lines = budget_lines({"licence": eur("9000.00"), "personnel": eur("30000.00")}, "EUR")
    actuals = {
        CostCategory.LICENCE: eur("2000.00"),
        CostCategory.PERSONNEL: eur("10000.00"),
        CostCategory.SHARED: eur("33.34"),
    }
    # 30 January: 30 of 90 days, so each forecast is three times its actual
    report = {line.category: line for line in budget_report(lines, actuals, quarter, date(2027, 1, 30))}
    assert list(report) == [CostCategory.LICENCE, CostCategory.SHARED, CostCategory.PERSONNEL]
    licence, shared, people = report[CostCategory.LICENCE], report[CostCategory.SHARED], report[CostCategory.PERSONNEL]
    assert (licence.actual, licence.forecast, licence.remaining) == (eur("2000.00"), eur("6000.00"), eur("7000.00"))
    assert licence.forecast_variance == eur("-3000.00") and licence.status is LineStatus.WITHIN
    assert (people.forecast, people.forecast_variance) == (eur("30000.00"), eur("0.00"))
    assert people.status is LineStatus.WITHIN  # exactly on budget is within it
    # a cost with no line has a zero budget: over it at once
    assert (shared.budget, shared.forecast, shared.status) == (eur("0.00"), eur("100.02"), LineStatus.OVER)


def test_a_forecast_over_the_budget_is_at_risk() -> None:
    month = Period(date(2027, 4, 1), date(2027, 4, 30))
    lines = budget_lines({"opex": eur("1000.00")}, "EUR")
    # 10 of 30 days, 400.00 spent: forecast 1,200.00 over a budget of 1,000.00
    (line,) = budget_report(lines, {CostCategory.OPEX: eur("400.00")}, month, date(2027, 4, 10))
    assert (line.forecast, line.status) == (eur("1200.00"), LineStatus.AT_RISK)


def test_an_actual_in_another_currency_is_refused_by_the_report() -> None:
    month = Period(date(2027, 4, 1), date(2027, 4, 30))
    lines = budget_lines({"opex": eur("1000.00")}, "EUR")
    with pytest.raises(RuleViolation) as refused:
        budget_report(lines, {CostCategory.OPEX: Money(Decimal("1.00"), "USD")}, month, date(2027, 4, 2))
    assert field_of(refused.value) == "currency"


def test_budget_lines_and_periods_are_checked() -> None:
    with pytest.raises(RuleViolation) as refused:
        budget_lines({"opex": Money(Decimal("1.00"), "USD")}, "EUR")
    assert field_of(refused.value) == "lines.opex.currency"
    with pytest.raises(RuleViolation) as refused:
        budget_lines({"snacks": eur("1.00")}, "EUR")
    assert field_of(refused.value) == "lines.snacks"
    with pytest.raises(RuleViolation) as refused:
        budget_lines({"opex": eur("-1.00")}, "EUR")
    assert field_of(refused.value) == "lines.opex.amount"
    with pytest.raises(RuleViolation):
        Period(date(2027, 2, 1), date(2027, 1, 31))
    with pytest.raises(RuleViolation):
        Period(date(2027, 1, 1), date(2028, 1, 2))  # 367 days
    assert Period(date(2028, 1, 1), date(2028, 12, 31)).days == 366


# -------------------------------------------------------------------------- actuals and CI costs


def test_an_actual_row_is_read_or_refused_naming_its_column() -> None:
    row = {
        "reference": "INV-1",
        "service_id": str(A),
        "category": "licence",
        "amount": "120.5",
        "currency": "EUR",
        "incurred_on": "2027-01-03",
    }
    actual = read_actual(row)
    assert (actual.service_id, actual.amount, actual.incurred_on) == (A, eur("120.50"), date(2027, 1, 3))
    for change, field in [
        ({"reference": ""}, "reference"),
        ({"allocation_rule": "hosting"}, "service_id"),
        ({"service_id": "", "allocation_rule": ""}, "service_id"),
        ({"service_id": "nope"}, "service_id"),
        ({"category": "snacks"}, "category"),
        ({"amount": "12.345"}, "amount"),
        ({"currency": "euro"}, "currency"),
        ({"incurred_on": "03/01/2027"}, "incurred_on"),
    ]:
        with pytest.raises(RuleViolation) as refused:
            read_actual({**row, **change})
        assert field_of(refused.value) == field, change


def test_ci_cost_attributes_are_bounded() -> None:
    cost = ci_cost("asset", "EUR", Decimal("1200.00"), Decimal("300"), 25, "CC-100")
    assert cost.annual_run_cost == eur("300.00")
    for args, field in [
        (("snacks", "EUR", None, None, None, None), "category"),
        (("asset", "EU", None, None, None, None), "currency"),
        (("asset", "EUR", Decimal("-1"), None, None, None), "purchase_cost"),
        (("asset", "EUR", None, Decimal("0.001"), None, None), "annual_run_cost"),
        (("licence", "EUR", None, None, -1, None), "licence_count"),
    ]:
        with pytest.raises(RuleViolation) as refused:
            ci_cost(*args)
        assert field_of(refused.value) == field, args
