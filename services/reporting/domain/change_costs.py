"""The cost of changes per service (ISO/IEC 20000-1 6.4) in reporting, pure: the fact tables the
change service's `change.cost_stated.v1` sets, and the rows of the `change-costs` report.

A statement replaces what was stated before for the change: every column of `change_cost_facts`
is the latest statement's (ordered by its `stated_at`), and a service the change no longer names
keeps the `stated_at` of the last statement naming it, so the report joins a change's services on
its current `stated_at` and a service dropped by a restatement is no longer counted.

Money stays exact as in domain/costs.py: integer cents in the facts, `Decimal`s to the cent in the
rows (strings in JSON and CSV), each beside its currency; two currencies are never added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from services.reporting.domain.costs import cents, money
from services.reporting.domain.facts import FactTable, Merge
from shared.events.cost import ChangeCostStated

K, F, L = Merge.KEY, Merge.FILL, Merge.LATEST
Row = Mapping[str, Any]
Result = tuple[list[dict[str, Any]], dict[str, Any]]
Facts = list[tuple[FactTable, dict[str, Any]]]

CHANGE_COSTS = FactTable(
    "change_cost_facts",
    {
        "change_id": K,
        "number": F,
        "currency": L,
        "estimated_cents": L,
        "estimate_stated": L,
        "actual_cents": L,
        "actual_stated": L,
        "cost_category": L,
        "budget_id": L,
        "stated_at": L,
        "stated_by": L,
    },
)
"""A change's cost as last stated. An amount not stated is 0 cents with its `*_stated` false (a
missing value never erases a LATEST column: the flag does, so a restatement without an estimate
takes the earlier estimate out of the report)."""
CHANGE_COST_SERVICES = FactTable("change_cost_service_facts", {"change_id": K, "service_id": K, "stated_at": L})
"""A service a statement named, with the time of the last statement naming it."""
FACT_TABLES = (CHANGE_COSTS, CHANGE_COST_SERVICES)


def cost_stated(data: ChangeCostStated) -> Facts:
    change = {
        "change_id": data.change_id,
        "number": data.number,
        "currency": data.currency,
        "estimated_cents": 0 if data.estimated_cost is None else cents(data.estimated_cost),
        "estimate_stated": data.estimated_cost is not None,
        "actual_cents": 0 if data.actual_cost is None else cents(data.actual_cost),
        "actual_stated": data.actual_cost is not None,
        "cost_category": data.cost_category,
        "budget_id": data.budget_id,
        "stated_at": data.stated_at,
        "stated_by": data.stated_by,
    }
    services = [
        (CHANGE_COST_SERVICES, {"change_id": data.change_id, "service_id": s, "stated_at": data.stated_at})
        for s in dict.fromkeys(data.service_ids)
    ]
    return [(CHANGE_COSTS, change), *services]


RULES: dict[type, Any] = {ChangeCostStated: cost_stated}

DEFINITION: dict[str, Any] = {
    "name": "change-costs",
    "title": "Cost of changes per service",
    "purpose": (
        "Budgeting and accounting for services (6.4): the cost of changes per service and month, as the change "
        "service last stated it for each change: how many changes were costed, their estimates, their actuals "
        "and the variance"
    ),
    "audience": ("service owners", "change managers", "finance", "top management"),
    "frequency": "monthly",
    "data_source": "change.cost_stated.v1 (the latest statement of each change), ci.* for names",
    "filters": ("from", "to", "service_id"),
    "period_applies_to": (
        "the time of the change's latest cost statement (stated_at, UTC): a change counts in the month it was "
        "last costed, and in the window when that time is in it. A change touching two services counts in both "
        "(its whole cost in each): the rows of a month do not add up to the total, which counts each change once"
    ),
    "columns": {
        "period_start": "the month's first day (YYYY-MM-DD), of the latest statement's time in UTC",
        "period_end": "the month's last day (included)",
        "service_id": "the service the change touches (empty: a change naming no service)",
        "service_name": "the service's name from the CMDB, when known",
        "currency": "ISO 4217 code of the statements (amounts are never converted; one row per currency)",
        "changes": "changes costed (with an estimate, an actual or both)",
        "with_actual": "of those, changes with an actual cost stated",
        "estimated": "the sum of the estimates stated, to the cent",
        "actual": "the sum of the actuals stated, to the cent",
        "variance": "actual - estimate summed over the changes with both stated (positive: over the estimate)",
    },
}


def _month(at: datetime) -> tuple[date, date]:
    first = at.astimezone(UTC).date().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def _figures(changes: Sequence[Row]) -> dict[str, Any]:
    both = [c for c in changes if c["estimate_stated"] and c["actual_stated"]]
    return {
        "changes": len(changes),
        "with_actual": sum(1 for c in changes if c["actual_stated"]),
        "estimated": money(sum(int(c["estimated_cents"]) for c in changes if c["estimate_stated"])),
        "actual": money(sum(int(c["actual_cents"]) for c in changes if c["actual_stated"])),
        "variance": money(sum(int(c["actual_cents"]) - int(c["estimated_cents"]) for c in both)),
    }


def change_cost_rows(changes: Sequence[Row], names: Mapping[str, str]) -> Result:
    """`changes`: a row per change and service it touches (`service_id` None: it names none), with
    the change's latest statement (UTC `stated_at`). A row per month, service and currency; months
    in order, then service name; a change with neither amount stated is not counted."""
    groups: dict[tuple[date, date, str, str, str], list[Row]] = {}
    distinct: dict[UUID, Row] = {}
    for c in changes:
        if not (c["estimate_stated"] or c["actual_stated"]):
            continue
        service = "" if c["service_id"] is None else str(c["service_id"])
        first, last = _month(c["stated_at"])
        groups.setdefault((first, last, names.get(service, ""), service, c["currency"]), []).append(c)
        distinct[c["change_id"]] = c
    rows = [
        {
            "period_start": first.isoformat(),
            "period_end": last.isoformat(),
            "service_id": service or None,
            "service_name": names.get(service),
            "currency": currency,
            **_figures(found),
        }
        for (first, last, _, service, currency), found in sorted(groups.items(), key=lambda g: g[0])
    ]
    currencies = {c["currency"] for c in distinct.values()}
    single = len(currencies) == 1
    whole = _figures(list(distinct.values()))
    totals: dict[str, Any] = {
        "changes": whole["changes"],
        "with_actual": whole["with_actual"],
        "currency": next(iter(currencies)) if single else None,
    }
    for name in ("estimated", "actual", "variance"):
        totals[name] = whole[name] if single else None
    return rows, totals
