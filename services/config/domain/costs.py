"""Accounting for service costs (ISO/IEC 20000-1 6.4) as pure rules: the cost attributes of a CI,
versioned allocation rules for shared and overhead costs and the exact split of an amount by
them, and one row of finance's actuals read and checked. No I/O.

The rounding rule of an allocation (largest remainder, in cents): each service first gets its
exact share rounded down to the cent; the cents left over (fewer than the services) go one each
to the services whose shares lost most to the rounding, a tie to the service earlier in the
rule's order. The parts therefore always sum to the whole, and the same input always gives the
same split.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Final
from uuid import UUID

from services.config.domain.budgets import CURRENCY, CostCategory, Money
from shared.errors import RuleViolation

RULE_NAME: Final = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
MAX_RULE_SERVICES: Final = 200
MAX_LICENCES: Final = 10_000_000
HUNDRED: Final = Decimal(100)


class AllocationBasis(StrEnum):
    FIXED_PERCENT = "fixed_percent"
    """Each service a stated percentage; the percentages sum to exactly 100."""
    CI_COUNT = "ci_count"
    """By the number of the service's CIs that are not retired, counted when the cost is allocated."""
    USAGE = "usage"
    """By a capacity metric: the sum over the service's CIs of each CI's latest sample."""


@dataclass(frozen=True)
class AllocationRule:
    name: str
    version: int
    basis: AllocationBasis
    service_ids: tuple[UUID, ...]
    percents: Mapping[UUID, Decimal]
    """Only for fixed_percent."""
    metric: str | None
    """Only for usage: the capacity metric's name."""


def validate_rule(
    name: str,
    basis: AllocationBasis,
    service_ids: Sequence[UUID],
    percents: Mapping[UUID, Decimal],
    metric: str | None,
) -> None:
    if not RULE_NAME.match(name):
        raise RuleViolation(
            "a rule name is lower case letters, digits, _ and - (up to 63), a letter first", field="name"
        )
    if not service_ids:
        raise RuleViolation("a rule shares a cost among at least one service", field="service_ids")
    if len(service_ids) > MAX_RULE_SERVICES:
        raise RuleViolation(f"a rule names at most {MAX_RULE_SERVICES} services", field="service_ids")
    if len(set(service_ids)) != len(service_ids):
        raise RuleViolation("a service is named once", field="service_ids")
    if basis is AllocationBasis.FIXED_PERCENT:
        if set(percents) != set(service_ids):
            raise RuleViolation("a fixed-percent rule gives a percentage for each of its services", field="percents")
        for service_id, share in percents.items():
            if not share.is_finite() or share <= 0 or share > HUNDRED:
                raise RuleViolation("a percentage is over 0 and at most 100", field=f"percents.{service_id}")
        if sum(percents.values(), Decimal(0)) != HUNDRED:
            raise RuleViolation("the percentages sum to exactly 100", field="percents")
    elif percents:
        raise RuleViolation("percentages belong to a fixed-percent rule only", field="percents")
    if basis is AllocationBasis.USAGE and not metric:
        raise RuleViolation("a usage rule names the capacity metric it shares by", field="metric")
    if basis is not AllocationBasis.USAGE and metric:
        raise RuleViolation("a metric belongs to a usage rule only", field="metric")


def weights(
    rule: AllocationRule, ci_counts: Mapping[UUID, int], usage: Mapping[UUID, Decimal]
) -> list[tuple[UUID, Decimal]]:
    """Each of the rule's services with its weight, in the rule's order."""
    if rule.basis is AllocationBasis.FIXED_PERCENT:
        return [(s, rule.percents[s]) for s in rule.service_ids]
    if rule.basis is AllocationBasis.CI_COUNT:
        return [(s, Decimal(ci_counts.get(s, 0))) for s in rule.service_ids]
    return [(s, usage.get(s, Decimal(0))) for s in rule.service_ids]


def allocate(amount: Money, shares: Sequence[tuple[UUID, Decimal]]) -> list[tuple[UUID, Money]]:
    """`amount` split by the weights (largest remainder in cents, see the module's rounding rule);
    the parts sum exactly to the amount. Refused when every weight is zero or one is negative."""
    if any(weight < 0 or not weight.is_finite() for _, weight in shares):
        raise RuleViolation("an allocation weight is not negative", field="allocation_rule")
    whole = sum((Fraction(weight) for _, weight in shares), Fraction(0))
    if whole == 0:
        raise RuleViolation("nothing to allocate by: every service's weight is zero", field="allocation_rule")
    cents = int(amount.amount * 100)
    sign, cents = (-1 if cents < 0 else 1), abs(cents)
    exact = [Fraction(cents) * Fraction(weight) / whole for _, weight in shares]
    parts = [int(share) for share in exact]  # rounded down: every share is >= 0
    left = cents - sum(parts)
    by_loss = sorted(range(len(shares)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in by_loss[:left]:
        parts[index] += 1
    return [
        (service_id, Money(Decimal(sign * part) / 100, amount.currency))
        for (service_id, _), part in zip(shares, parts, strict=True)
    ]


# ------------------------------------------------------------------------- a CI's cost attributes


@dataclass(frozen=True)
class CICost:
    category: CostCategory
    currency: str
    purchase_cost: Money | None
    annual_run_cost: Money | None
    licence_count: int | None
    cost_centre: str | None


def ci_cost(
    category: str,
    currency: str,
    purchase_cost: Decimal | None,
    annual_run_cost: Decimal | None,
    licence_count: int | None,
    cost_centre: str | None,
) -> CICost:
    try:
        kind = CostCategory(category)
    except ValueError:
        raise RuleViolation(f"{category[:40]!r} is no cost category", field="category") from None
    if not CURRENCY.match(currency):
        raise RuleViolation("an ISO 4217 code (three capital letters)", field="currency")
    costs = {}
    for field, value in (("purchase_cost", purchase_cost), ("annual_run_cost", annual_run_cost)):
        if value is not None and value < 0:
            raise RuleViolation("a cost is not negative", field=field)
        try:
            costs[field] = None if value is None else Money(value, currency)
        except RuleViolation as refused:
            raise RuleViolation(refused.detail, field=field) from None
    if licence_count is not None and not 0 <= licence_count <= MAX_LICENCES:
        raise RuleViolation(f"a licence count is 0 to {MAX_LICENCES:,}", field="licence_count")
    return CICost(kind, currency, costs["purchase_cost"], costs["annual_run_cost"], licence_count, cost_centre)


# ----------------------------------------------------------------------- finance's actuals, by row

ACTUAL_COLUMNS: Final = (
    "reference",
    "service_id",
    "allocation_rule",
    "category",
    "amount",
    "currency",
    "incurred_on",
    "description",
)
MAX_REFERENCE: Final = 64
MAX_ACTUAL_ROWS: Final = 5000
"""Rows in one import: a larger file is refused whole (split it)."""
MAX_DESCRIPTION: Final = 500


@dataclass(frozen=True)
class ActualRow:
    """One row of finance's export: a cost incurred by a service, or a shared cost to allocate."""

    reference: str
    service_id: UUID | None
    allocation_rule: str | None
    category: CostCategory
    amount: Money
    incurred_on: date
    description: str


def read_actual(raw: Mapping[str, str]) -> ActualRow:
    """A row checked, or a RuleViolation naming the column that is wrong."""
    reference = raw.get("reference", "").strip()
    if not reference or len(reference) > MAX_REFERENCE:
        raise RuleViolation(f"finance's reference is 1 to {MAX_REFERENCE} characters", field="reference")
    service_text = raw.get("service_id", "").strip()
    rule = raw.get("allocation_rule", "").strip() or None
    if bool(service_text) == bool(rule):
        raise RuleViolation("a row names either a service or an allocation rule", field="service_id")
    try:
        service_id = UUID(service_text) if service_text else None
    except ValueError:
        raise RuleViolation("not a service id (a UUID)", field="service_id") from None
    try:
        category = CostCategory(raw.get("category", "").strip())
    except ValueError:
        raise RuleViolation(f"{raw.get('category', '')[:40]!r} is no cost category", field="category") from None
    amount = Money.parse(raw.get("amount", ""), raw.get("currency", "").strip())
    try:
        incurred_on = date.fromisoformat(raw.get("incurred_on", "").strip())
    except ValueError:
        raise RuleViolation("a date as YYYY-MM-DD", field="incurred_on") from None
    description = raw.get("description", "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise RuleViolation(f"a description is at most {MAX_DESCRIPTION} characters", field="description")
    return ActualRow(reference, service_id, rule, category, amount, incurred_on, description)
