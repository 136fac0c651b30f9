"""API bodies of budgeting and accounting (6.4): a CI's cost attributes, budgets with their lines
and their report (budget against actual against forecast), allocation rules, and finance's
actuals with the result of each imported row. Amounts are decimal strings in JSON ("1200.50"),
never floats, each with its currency."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from services.config.domain.budgets import CostCategory
from services.config.domain.costs import ACTUAL_COLUMNS, MAX_ACTUAL_ROWS, MAX_RULE_SERVICES, RULE_NAME, AllocationBasis
from shared.errors import RuleViolation
from shared.http import ApiModel, Page

Amount = Annotated[Decimal, Field(max_digits=16, decimal_places=2, allow_inf_nan=False, examples=["1200.50"])]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"], description="ISO 4217")]
Percent = Annotated[Decimal, Field(gt=0, le=100, max_digits=7, decimal_places=4, examples=["62.5"])]


class CICostPut(ApiModel):
    """A CI's cost attributes (kept under its `attributes.cost`, as a new CI version)."""

    category: CostCategory
    currency: Currency
    purchase_cost: Amount | None = Field(default=None, ge=0)
    annual_run_cost: Amount | None = Field(default=None, ge=0)
    licence_count: int | None = Field(default=None, ge=0, le=10_000_000)
    cost_centre: str | None = Field(default=None, min_length=1, max_length=64)
    change_number: str | None = Field(
        default=None, pattern=r"^CHG[0-9]{7}$", description="The approved change allowing it, on a controlled CI"
    )


class CICostRead(ApiModel):
    ci_id: UUID
    version: int = Field(description="The CI's version after the change")
    category: CostCategory
    currency: str
    purchase_cost: Decimal | None
    annual_run_cost: Decimal | None
    licence_count: int | None
    cost_centre: str | None


class BudgetLineBody(ApiModel):
    category: CostCategory
    amount: Amount = Field(ge=0)


class BudgetCreate(ApiModel):
    """A service's budget for a period (both days included, at most 366 days), one line per category."""

    service_id: UUID
    period_start: date
    period_end: date
    currency: Currency
    lines: list[BudgetLineBody] = Field(min_length=1, max_length=len(CostCategory))


class BudgetRead(ApiModel):
    id: UUID
    service_id: UUID
    period_start: date
    period_end: date
    currency: str
    lines: list[BudgetLineBody]
    total: Decimal
    created_at: datetime
    created_by: str


BudgetPage = Page[BudgetRead]


class BudgetReportLine(ApiModel):
    category: CostCategory
    budget: Decimal
    actual: Decimal
    forecast: Decimal = Field(description="The actual run on at its rate so far to the end of the period")
    remaining: Decimal = Field(description="Budget less actual")
    forecast_variance: Decimal = Field(description="Forecast less budget: above 0, heading over the budget")
    status: Literal["within", "at_risk", "over"]


class BudgetReport(ApiModel):
    budget_id: UUID
    service_id: UUID
    period_start: date
    period_end: date
    as_of: date
    currency: str
    lines: list[BudgetReportLine]
    budget: Decimal
    actual: Decimal
    forecast: Decimal


class AllocationRuleCreate(ApiModel):
    """A rule sharing a shared or overhead cost among services; recording a rule under a name in
    use makes its next version (actuals keep the version they were split by)."""

    name: str = Field(min_length=1, max_length=63, pattern=RULE_NAME.pattern, examples=["hosting-platform"])
    basis: AllocationBasis
    service_ids: list[UUID] = Field(min_length=1, max_length=MAX_RULE_SERVICES)
    percents: dict[UUID, Percent] = Field(
        default_factory=dict, max_length=MAX_RULE_SERVICES, description="fixed_percent only: summing to 100"
    )
    metric: str | None = Field(
        default=None, min_length=1, max_length=63, description="usage only: the capacity metric shared by"
    )


class AllocationRuleRead(ApiModel):
    name: str
    version: int
    basis: AllocationBasis
    service_ids: list[UUID]
    percents: dict[UUID, Decimal]
    metric: str | None
    created_at: datetime
    created_by: str


AllocationRulePage = Page[AllocationRuleRead]


class AllocatedPart(ApiModel):
    service_id: UUID
    amount: Decimal


class ImportedRow(ApiModel):
    row: int = Field(description="The row's line in the file (the header is line 1)")
    reference: str | None
    result: Literal["accepted", "refused"]
    field: str | None = Field(default=None, description="The column at fault, when refused")
    reason: str | None = None
    parts: list[AllocatedPart] = Field(default_factory=list, description="What each service was charged")


class ActualsImportRead(ApiModel):
    import_id: UUID
    rows: int
    accepted: int
    refused: int
    results: list[ImportedRow]


class CostActualRead(ApiModel):
    id: UUID
    reference: str
    service_id: UUID
    category: CostCategory
    amount: Decimal
    currency: str
    incurred_on: date
    description: str
    allocation_rule: str | None
    allocation_version: int | None
    import_id: UUID


CostActualPage = Page[CostActualRead]


ACTUAL_REQUIRED = ("reference", "category", "amount", "currency", "incurred_on")


def actual_rows(body: bytes, content_type: str) -> list[dict[str, str]]:
    """Finance's CSV (UTF-8, a header row naming `ACTUAL_COLUMNS`) as one mapping per row; a file
    that cannot be read as such is refused whole, a row that is wrong is refused by the import."""
    if not content_type.startswith("text/csv"):
        raise RuleViolation("send the actuals as text/csv", field="body")
    try:
        reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
        columns = set(reader.fieldnames or ())
    except (UnicodeDecodeError, csv.Error):
        raise RuleViolation("the body is not UTF-8 CSV", field="body") from None
    unknown = sorted(columns - set(ACTUAL_COLUMNS))
    if unknown:
        raise RuleViolation(f"unknown CSV columns: {', '.join(unknown)[:200]}", field="columns")
    missing = [c for c in ACTUAL_REQUIRED if c not in columns]
    if missing or not ({"service_id", "allocation_rule"} & columns):
        needed = missing or ["service_id or allocation_rule"]
        raise RuleViolation(f"missing CSV columns: {', '.join(needed)}", field="columns")
    rows: list[dict[str, str]] = []
    try:
        for raw in reader:
            if len(rows) == MAX_ACTUAL_ROWS:
                raise RuleViolation(f"an import holds at most {MAX_ACTUAL_ROWS} rows; split the file", field="body")
            rows.append({k: v or "" for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)})
    except csv.Error as exc:
        raise RuleViolation(f"not CSV: {str(exc)[:200]}", field="body") from None
    return rows
