"""The cost of changes in reporting, pure: what change.cost_stated.v1 sets in the fact tables
(through `patches_for`, as the consumer and the rebuild do) and the change-costs report's rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from services.reporting.domain.change_costs import CHANGE_COST_SERVICES, CHANGE_COSTS, change_cost_rows
from services.reporting.events import patches_for
from shared.events import new_event
from shared.events.cost import ChangeCostStated

AT = datetime(2026, 12, 7, 12, tzinfo=UTC)
SVC, SVC2, CHANGE = uuid4(), uuid4(), uuid4()


def stated(estimate: str | None, actual: str | None, services: list[UUID], at: datetime = AT) -> ChangeCostStated:
    return ChangeCostStated(
        change_id=CHANGE,
        number="CHG0000042",
        service_ids=services,
        currency="EUR",
        estimated_cost=None if estimate is None else Decimal(estimate),
        actual_cost=None if actual is None else Decimal(actual),
        cost_category="opex",
        budget_id=None,
        stated_at=at,
        stated_by="carol",
    )


def test_a_statement_sets_the_change_row_in_cents_and_a_row_per_service_at_its_time() -> None:
    published_late = AT + timedelta(hours=3)
    event = new_event(
        stated("1200.5", None, [SVC, SVC2, SVC]), source="/itsm/change", subject=str(CHANGE), time=published_late
    )
    patches = patches_for(event)
    change, *services = patches
    assert change.table is CHANGE_COSTS and change.at == AT  # ordered by stated_at, not when it was published
    assert change.values["estimated_cents"] == 120050 and change.values["estimate_stated"] is True
    # No actual stated: 0 cents and the flag false, so a restatement without one replaces an earlier one.
    assert change.values["actual_cents"] == 0 and change.values["actual_stated"] is False
    assert [(p.table, p.values["service_id"], p.values["stated_at"]) for p in services] == [
        (CHANGE_COST_SERVICES, SVC, AT),
        (CHANGE_COST_SERVICES, SVC2, AT),
    ]


def test_an_amount_finer_than_a_cent_is_refused_not_rounded() -> None:
    with pytest.raises(ValueError, match="not an amount to the cent"):
        patches_for(new_event(stated("10.005", None, [SVC]), source="/itsm/change", subject=str(CHANGE)))
    with pytest.raises(ValidationError):
        ChangeCostStated.model_validate({"change_id": str(CHANGE)})


def fact(change: UUID, service: UUID | None, estimate: int | None, actual: int | None, **extra: Any) -> dict:
    return {
        "change_id": change,
        "service_id": service,
        "currency": "EUR",
        "estimated_cents": estimate or 0,
        "estimate_stated": estimate is not None,
        "actual_cents": actual or 0,
        "actual_stated": actual is not None,
        "stated_at": AT,
        **extra,
    }


def money(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(row[k]) for k in ("estimated", "actual", "variance"))


def test_rows_per_month_service_and_currency_a_change_in_each_of_its_services_once_in_the_total() -> None:
    both, alone, unnamed, uncosted, dollars = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()
    facts = [
        fact(both, SVC, 10000, 12050),
        fact(both, SVC2, 10000, 12050),
        fact(alone, SVC2, 5000, None),  # no actual: not in the variance
        fact(unnamed, None, None, 199),  # no estimate: its actual is not in the variance either
        fact(uncosted, SVC, None, None),  # nothing stated: not counted
        fact(dollars, SVC, 100, 50, currency="USD", stated_at=AT + timedelta(days=30)),
    ]
    rows, totals = change_cost_rows(facts, {str(SVC): "Mail", str(SVC2): "Payroll"})
    assert [
        (r["period_start"], r["service_name"], r["currency"], r["changes"], r["with_actual"], *money(r)) for r in rows
    ] == [
        ("2026-12-01", None, "EUR", 1, 1, "0.00", "1.99", "0.00"),
        ("2026-12-01", "Mail", "EUR", 1, 1, "100.00", "120.50", "20.50"),
        ("2026-12-01", "Payroll", "EUR", 2, 1, "150.00", "120.50", "20.50"),
        ("2027-01-01", "Mail", "USD", 1, 1, "1.00", "0.50", "-0.50"),
    ]
    assert rows[0]["service_id"] is None and rows[0]["period_end"] == "2026-12-31"
    assert totals == dict.fromkeys(("currency", "estimated", "actual", "variance")) | {"changes": 4, "with_actual": 3}
    _, euros = change_cost_rows(facts[:4], {})
    assert euros == {
        "changes": 3,
        "with_actual": 2,
        "currency": "EUR",
        "estimated": Decimal("150.00"),
        "actual": Decimal("122.49"),
        "variance": Decimal("20.50"),
    }
