"""The SQL the report queries share: period and incident filters, period labels, durations in
seconds on PostgreSQL and SQLite, the plan settings of an aggregate, plain numbers from a row."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.store.attribution import attributed_to
from services.reporting.store.tables import incident_facts
from shared.db import UtcDateTime

# Report queries: aggregates in SQL, folded and rounded in domain.figures (availability and DORA:
# the few outage, deployment and change rows they need, computed there)


def in_period(column: Any, filters: ReportFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.start is not None:
        conditions.append(column >= filters.start)
    if filters.end is not None:
        conditions.append(column < filters.end)
    return conditions


def incident_conditions(filters: ReportFilters, *, period: bool = True) -> list[ColumnElement[bool]]:
    i = incident_facts
    conditions: list[ColumnElement[bool]] = [i.c.opened_at.is_not(None)]
    if period:
        conditions += in_period(i.c.opened_at, filters)
    if filters.service_id is not None:
        conditions.append(i.c.service_id == filters.service_id)
    if filters.group is not None:
        conditions.append(i.c.assignment_group == filters.group)
    if filters.priority is not None:
        conditions.append(i.c.priority == filters.priority)
    if filters.supplier_id is not None:
        conditions.append(attributed_to(filters.supplier_id))
    return conditions


PERIODS = ("day", "week", "month")


def period_label(conn: AsyncConnection, column: Any, granularity: str, *, of_day: bool = False) -> Any:
    """The start of the UTC day, week or month of a time (`of_day`: of a date)."""
    if granularity not in PERIODS:
        raise ValueError(f"no period {granularity!r}")
    if conn.dialect.name == "postgresql" and of_day:
        return func.date_trunc(literal_column(f"'{granularity}'"), cast(column, DateTime()))
    if conn.dialect.name == "postgresql":
        # Formatted after the grouping (a to_char per row doubled the report's time on 1M rows).
        # Written out, not bound: the expression the statistics of migration 0003 describe, which
        # tell the planner how many periods there are (a parallel aggregate instead of a serial one).
        return func.date_trunc(literal_column(f"'{granularity}'"), func.timezone(literal_column("'UTC'"), column))
    day = func.date(column)
    if granularity == "week":
        return func.date(column, "weekday 0", "-6 days")
    if granularity == "month":
        return func.strftime("%Y-%m-01", column)
    return day


def count_true(column: Any) -> Any:
    return func.count().filter(column.is_(True))


def sla_verdict(table: Any, target: str) -> ColumnElement[Any]:
    """Whether a ticket met an SLA target: its clock's result when the ticket service reported one
    (on resolution or fulfilment), otherwise missed if a breach was notified, otherwise unknown.

    The result wins over a breach notice: the notice is raised live, by the time it is raised,
    while the result is computed from the ticket's recorded times (it also covers a target moved by
    a priority change, and history imported with its original times while the watcher ran)."""
    notified = case((table.c[f"{target}_breached"].is_(True), false()), else_=null())
    return func.coalesce(table.c[f"{target}_met"], notified)


def not_in(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """`column NOT IN values`, true for NULL too (as `None not in values` is in Python)."""
    return or_(column.is_(None), column.not_in(list(values)))


def seconds_of(conn: AsyncConnection, aggregate: Any, later: Any, earlier: Any, *where: Any) -> Any:
    """`aggregate` (sum, max) of `later - earlier` over the rows `where` selects, in seconds, exact
    to the microsecond. PostgreSQL: of the intervals (no numeric per row), converted once per group;
    SQLite: of the differences of the text SQLAlchemy stores, 'YYYY-MM-DD HH:MM:SS.ffffff', in
    whole seconds and microseconds."""
    if conn.dialect.name == "postgresql":
        return extract("epoch", aggregate(later - earlier).filter(*where))

    def micros(moment: Any) -> Any:
        return cast(func.strftime("%s", moment), Integer) * 1_000_000 + cast(func.substr(moment, 21, 6), Integer)

    return aggregate((micros(later) - micros(earlier)) / 1_000_000.0).filter(*where)


def at_moment(value: datetime) -> Any:
    return literal(value, UtcDateTime())


_AGGREGATING = text("SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)")


async def aggregating(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        # The cost estimate of a scan of every incident turns JIT compilation on, which took about
        # a fifth of the time of these (short) aggregates over 1,000,000 rows. And a plan for the
        # values at hand every time: from its sixth run on, PostgreSQL may keep a generic plan of
        # a prepared statement (asyncpg prepares them), blind to the period, which ran these twice
        # as long. For this transaction only.
        await conn.execute(_AGGREGATING)


def period_text(value: Any) -> Any:
    return value.date().isoformat() if isinstance(value, datetime) else value


def plain_numbers(row: Any, *, floats: Iterable[str] = (), extremes: Iterable[str] = ()) -> dict[str, Any]:
    """A result row as a dict of plain numbers: `floats` (sums of seconds) as float, 0.0 when
    nothing was summed, `extremes` (of seconds) as float or None; other numerics (PostgreSQL's
    sum of a bigint) as int."""
    out = {k: int(v) if isinstance(v, Decimal) else v for k, v in row._mapping.items()}
    for name in floats:
        out[name] = float(row._mapping[name] or 0)
    for name in extremes:
        out[name] = None if row._mapping[name] is None else float(row._mapping[name])
    return out


async def as_dicts(conn: AsyncConnection, query: Any) -> list[dict[str, Any]]:
    result = await conn.execute(query)
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]
