"""Budgeting and accounting (ISO/IEC 20000-1 6.4) as pure rules: money (an exact amount with its
currency, never a float), the cost categories, a service's budget for a period with one line per
category, and the report of budget against actual against forecast. No I/O.

Amounts are held to the cent: two decimal places for every currency (the API refuses more).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import Final

from shared.errors import RuleViolation

CURRENCY: Final = re.compile(r"^[A-Z]{3}$")
CENT: Final = Decimal("0.01")
MAX_AMOUNT: Final = Decimal("99999999999999.99")
"""Sixteen digits, two of them after the point: the largest amount a column holds."""
MAX_PERIOD_DAYS: Final = 366


class CostCategory(StrEnum):
    """What a cost is for (the components 6.4 names: assets and licences, shared resources,
    overheads, capital and operating expenses, external services, personnel, facilities)."""

    ASSET = "asset"
    LICENCE = "licence"
    SHARED = "shared"
    OVERHEAD = "overhead"
    CAPEX = "capex"
    OPEX = "opex"
    EXTERNAL = "external"
    PERSONNEL = "personnel"
    FACILITY = "facility"


@dataclass(frozen=True)
class Money:
    """An exact amount in one currency. Adding or comparing two currencies is refused."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not CURRENCY.match(self.currency):
            raise RuleViolation("an ISO 4217 code (three capital letters)", field="currency")
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise RuleViolation("an amount is a finite decimal number", field="amount")
        if abs(self.amount) > MAX_AMOUNT or self.amount != self.amount.quantize(CENT):
            raise RuleViolation("an amount has at most two decimal places and sixteen digits", field="amount")
        object.__setattr__(self, "amount", self.amount.quantize(CENT))  # 20 is held as 20.00

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0.00"), currency)

    @classmethod
    def parse(cls, text: str, currency: str, *, field: str = "amount") -> Money:
        """An amount as finance writes it ("1234.50", "-20"); never through a float."""
        if not CURRENCY.match(currency):
            raise RuleViolation("an ISO 4217 code (three capital letters)", field="currency")
        try:
            amount = Decimal(text.strip())
        except InvalidOperation:
            raise RuleViolation(f"{text[:40]!r} is not a decimal amount", field=field) from None
        if not amount.is_finite():
            raise RuleViolation("an amount is a finite decimal number", field=field)
        try:
            return cls(amount, currency)
        except (RuleViolation, InvalidOperation):
            raise RuleViolation("an amount has at most two decimal places and sixteen digits", field=field) from None

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise RuleViolation(
                f"{other.currency} cannot be combined with {self.currency}: amounts are never converted",
                field="currency",
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def exceeds(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount


def total(amounts: Iterable[Money], currency: str) -> Money:
    """The sum, in `currency`; an amount in another currency is refused."""
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result


@dataclass(frozen=True)
class Period:
    """A budget's period, both days included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise RuleViolation("a period ends on or after its first day", field="period_end")
        if self.days > MAX_PERIOD_DAYS:
            raise RuleViolation(f"a budget period is at most {MAX_PERIOD_DAYS} days", field="period_end")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end

    def elapsed_days(self, as_of: date) -> int:
        """Days of the period gone by on `as_of` (the day itself counted), 0 before it starts."""
        if as_of < self.start:
            return 0
        return min(self.days, (as_of - self.start).days + 1)


def budget_lines(lines: Mapping[str, Money], currency: str) -> dict[CostCategory, Money]:
    """A budget's lines checked: known categories, the budget's currency, no negative amount."""
    checked: dict[CostCategory, Money] = {}
    if not lines:
        raise RuleViolation("a budget has at least one line", field="lines")
    for name, amount in lines.items():
        try:
            category = CostCategory(name)
        except ValueError:
            raise RuleViolation(f"{name[:40]!r} is no cost category", field=f"lines.{name[:40]}") from None
        if amount.currency != currency:
            raise RuleViolation(
                f"the line is in {amount.currency}, the budget in {currency}", field=f"lines.{name}.currency"
            )
        if amount.amount < 0:
            raise RuleViolation("a budget line is not negative", field=f"lines.{name}.amount")
        checked[category] = amount
    return checked


def forecast(actual: Money, period: Period, as_of: date) -> Money:
    """The period's cost at the run rate so far: actual x period days / elapsed days, rounded half
    to even to the cent. Before the period starts nothing is known (the actual, zero); once it
    has ended the forecast is the actual."""
    elapsed = period.elapsed_days(as_of)
    if elapsed == 0 or elapsed >= period.days:
        return actual
    projected = (actual.amount * period.days / elapsed).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return Money(projected, actual.currency)


class LineStatus(StrEnum):
    WITHIN = "within"
    AT_RISK = "at_risk"
    """The actual is within the budget but the forecast is over it."""
    OVER = "over"


@dataclass(frozen=True)
class ReportLine:
    category: CostCategory
    budget: Money
    actual: Money
    forecast: Money

    @property
    def remaining(self) -> Money:
        """Budget less actual (negative once overspent)."""
        return self.budget - self.actual

    @property
    def forecast_variance(self) -> Money:
        """Forecast less budget (positive: the period is heading over the budget)."""
        return self.forecast - self.budget

    @property
    def status(self) -> LineStatus:
        if self.actual.exceeds(self.budget):
            return LineStatus.OVER
        if self.forecast.exceeds(self.budget):
            return LineStatus.AT_RISK
        return LineStatus.WITHIN


def budget_report(
    lines: Mapping[CostCategory, Money], actuals: Mapping[CostCategory, Money], period: Period, as_of: date
) -> list[ReportLine]:
    """One line per category budgeted or spent on (a cost with no budget line has a zero budget),
    in the categories' order. Actuals in another currency than the budget's are refused."""
    currencies = {m.currency for m in lines.values()}
    if len(currencies) != 1:
        raise RuleViolation("a budget is in one currency", field="currency")
    currency = currencies.pop()
    report = []
    for category in CostCategory:
        if category not in lines and category not in actuals:
            continue
        budget = lines.get(category, Money.zero(currency))
        actual = Money.zero(currency) + actuals.get(category, Money.zero(currency))
        report.append(ReportLine(category, budget, actual, forecast(actual, period, as_of)))
    return report
