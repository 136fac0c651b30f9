"""Reporting persistence: the event log, the fact tables (projections), report runs, and queries."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    TextClause,
    UniqueConstraint,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    delete,
    distinct,
    extract,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from services.reporting.domain.definitions import ReportFilters
from services.reporting.domain.facts import FACT_TABLES, FactTable, Merge, Patch
from services.reporting.domain.figures import (
    BREACH_METRICS,
    CLOSED_INCIDENT,
    CONTRACT_IN_FORCE,
    FINISHED_DEPLOYMENT,
    FINISHED_PROBLEM,
    FINISHED_REQUEST,
    PRODUCTION,
    RESOLVED_INCIDENT,
    Window,
)
from shared.db import BigIntKey, UtcDateTime, insert_ignoring_duplicates, make_metadata, page
from shared.events import CloudEvent
from shared.inbox import inbox_table
from shared.numbering import number_sequence_table
from shared.outbox import outbox_table

metadata = make_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
number_sequence = number_sequence_table(metadata)

event_log = Table(
    "event_log",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("type", String(200), nullable=False, index=True),
    Column("source", String(200), nullable=False, index=True),
    Column("subject", String(200), index=True),
    Column("time", UtcDateTime, nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False, server_default=func.now()),
)

_BOOLEAN = {"major", "response_met", "resolution_met", "fulfilment_met", "response_breached"}
_BOOLEAN |= {"resolution_breached", "fulfilment_breached", "backed_out", "covered"}
_INTEGER = {"priority", "impact", "urgency", "criticality", "incident_count"}
_TEXT_IDS = {"finding_id", "breach_id"}


def _column_type(name: str) -> TypeEngine[Any]:
    if name in _TEXT_IDS:
        return String(36)
    if name.endswith("_id"):
        return Uuid()
    if name.endswith("_at") or name in ("starts_on", "ends_on"):
        return UtcDateTime()
    if name in _BOOLEAN:
        return Boolean()
    if name in _INTEGER:
        return Integer()
    if name in ("target", "actual"):
        return Float()
    return String(200)


# The columns reports select periods and services by.
_INDEXED = {
    "incident_facts": {"opened_at"},  # and (service_id, opened_at), below
    "request_facts": {"submitted_at"},
    "change_facts": {"created_at"},
    "deployment_facts": {"finished_at"},
    "contract_coverage_facts": {"item_id"},
}
# Indexed where set only (many incidents have no supplier, some no CI: those rows cost the
# consumer no index entry): a supplier's incidents, those assigned to it and those on the CIs its
# contracts cover, are found through them.
_INDEXED_WHERE_SET = {"incident_facts": ("ci_id", "supplier_id")}


def stamp(column: str) -> str:
    """The column holding when a LATEST column's value happened (the time of its event)."""
    return f"{column}_stamp"


def _fact_table(spec: FactTable) -> Table:
    columns: list[Column[Any]] = []
    indexed = _INDEXED.get(spec.name, set())
    for name, merge in spec.columns.items():
        if merge is Merge.KEY:
            columns.append(Column(name, _column_type(name), primary_key=True, index=name in indexed))
        elif merge is Merge.ADD:
            columns.append(Column(name, Integer, nullable=False, server_default="0"))
        else:
            columns.append(Column(name, _column_type(name), index=name in indexed))
        if merge is Merge.LATEST:
            columns.append(Column(stamp(name), UtcDateTime))
    columns.append(Column("updated_at", UtcDateTime, nullable=False))
    columns.append(Column("updated_event", String(36), nullable=False))
    table = Table(spec.name, metadata, *columns)
    for name in _INDEXED_WHERE_SET.get(spec.name, ()):
        column = table.c[name]
        Index(f"ix_{spec.name}_{name}", column, postgresql_where=column.is_not(None), sqlite_where=column.is_not(None))
    return table


FACTS: dict[str, Table] = {spec.name: _fact_table(spec) for spec in FACT_TABLES}
incident_facts = FACTS["incident_facts"]
request_facts = FACTS["request_facts"]
problem_facts = FACTS["problem_facts"]
change_facts = FACTS["change_facts"]
change_service_facts = FACTS["change_service_facts"]
change_incident_facts = FACTS["change_incident_facts"]
deployment_facts = FACTS["deployment_facts"]
ci_facts = FACTS["ci_facts"]
cmdb_finding_facts = FACTS["cmdb_finding_facts"]
supplier_facts = FACTS["supplier_facts"]
contract_facts = FACTS["contract_facts"]
contract_coverage_facts = FACTS["contract_coverage_facts"]
supplier_breach_facts = FACTS["supplier_breach_facts"]
dispute_facts = FACTS["dispute_facts"]

# An outage (availability, DORA time to restore): a priority 1 or major incident (on a service);
# an incident linked to a problem as a recurrence. Written with their values in the SQL text,
# so that the planners match them to the partial indexes below.
OUTAGE = (incident_facts.c.priority == literal_column("1")) | incident_facts.c.major.is_(True)
RECURRENCE = incident_facts.c.problem_link_reason == literal_column("'recurrence'")
# A service's incidents of a period (every incident report filters by service).
Index("ix_incident_facts_service_id_opened_at", incident_facts.c.service_id, incident_facts.c.opened_at)
# For the few rows availability, DORA, problems, hot spots and major incidents read (index-only
# scans on PostgreSQL).
Index(
    "ix_incident_facts_outage",
    incident_facts.c.opened_at,
    postgresql_include=["service_id", "resolved_at"],
    postgresql_where=OUTAGE,
    sqlite_where=OUTAGE,
)
Index(
    "ix_incident_facts_major",
    incident_facts.c.opened_at,
    postgresql_where=incident_facts.c.major.is_(True),
    sqlite_where=incident_facts.c.major.is_(True),
)
Index(
    "ix_incident_facts_problem",
    incident_facts.c.ci_id,
    incident_facts.c.problem_id,
    postgresql_where=incident_facts.c.problem_id.is_not(None),
    sqlite_where=incident_facts.c.problem_id.is_not(None),
)
Index(
    "ix_incident_facts_recurrence",
    incident_facts.c.opened_at,
    postgresql_include=["service_id", "assignment_group", "priority", "supplier_id"],
    postgresql_where=RECURRENCE,
    sqlite_where=RECURRENCE,
)

# The service-levels figures per UTC day, service and priority, kept by triggers on incident_facts
# (migration 0004): a change row (+1/-1) each time an incident starts or stops counting for a day,
# service and priority or changes its results; `compact_service_level_days` merges the changes
# into `service_level_day`. A report sums both. No service: the nil UUID (a key column).
NO_SERVICE = uuid.UUID(int=0)
SERVICE_LEVEL_COUNTS = ("incidents", "response_measured", "response_met", "resolution_measured", "resolution_met")


def _service_level_columns() -> list[Column[Any]]:
    return [
        Column("day", Date, nullable=False, primary_key=True),
        Column("service_id", Uuid, nullable=False, primary_key=True),
        Column("priority", Integer, nullable=False, primary_key=True),
        *(Column(name, Integer, nullable=False) for name in SERVICE_LEVEL_COUNTS),
    ]


service_level_day = Table("service_level_day", metadata, *_service_level_columns())
service_level_day_change = Table(
    "service_level_day_change",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    *(Column(c.name, c.type, nullable=False) for c in _service_level_columns()),
)

report_run = Table(
    "report_run",
    metadata,
    Column("run_id", Uuid, primary_key=True),
    Column("report", String(50), nullable=False),
    Column("frequency", String(10), nullable=False),
    Column("period_start", UtcDateTime, nullable=False),
    Column("period_end", UtcDateTime, nullable=False),
    Column("generated_at", UtcDateTime, nullable=False, index=True),
    Column("row_count", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    # The agreement version it was produced under and the SHA-256 of its content (see governance).
    Column("agreement_version", Integer),
    Column("content_sha256", String(64)),
    # Once per report and period, however many replicas run the scheduler.
    UniqueConstraint("report", "frequency", "period_start"),
)


# Constant statements with bound values: SQLAlchemy does not cache `insert().on_conflict_...()`
# and these run for every event reporting receives.
_RECORD_EVENT = text(
    "INSERT INTO event_log (event_id, type, source, subject, time, data) "
    "VALUES (:event_id, :type, :source, :subject, :time, :data) ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(bindparam("time", type_=UtcDateTime), bindparam("data", type_=JSON))


def _event_row(event: CloudEvent) -> dict[str, Any]:
    return {
        "event_id": str(event.id),
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "time": event.time,
        "data": event.data,
    }


async def record_event(conn: AsyncConnection, event: CloudEvent) -> bool:
    """Store the event once; False when its id is already in the log."""
    return (await conn.execute(_RECORD_EVENT, _event_row(event))).first() is not None


async def record_events(conn: AsyncConnection, events: Sequence[CloudEvent]) -> list[CloudEvent]:
    """Store a batch of events (one multi-row statement); returns those not already in the log."""
    if not events:
        return []
    stmt = insert_ignoring_duplicates(conn, event_log).returning(event_log.c.event_id)
    fresh = set((await conn.execute(stmt, [_event_row(e) for e in events])).scalars())
    return [e for e in events if str(e.id) in fresh]


# Projections: one upsert statement per fact table and set of columns, built once.

_UPSERTS: dict[tuple[str, tuple[str, ...]], TextClause] = {}


def _lifecycle_key(value: str, states: Sequence[str]) -> str:
    """A text that sorts as `FactTable.tie_rank` does: a known state as its place in the lifecycle
    (three digits from 001), any other value as 000 followed by itself (the states are checked
    snake_case names). One CASE a side keeps the upsert small: it is set up for every row."""
    whens = " ".join(f"WHEN '{state}' THEN '{n + 1:03d}'" for n, state in enumerate(states))
    return f"CASE {value} {whens} ELSE '000' || {value} END"


def _newer(spec: FactTable, column: str) -> str:
    """Whether the incoming value of a LATEST column wins: it happened later, or at the same time
    and ranks higher (`FactTable.tie_rank`: a status by its lifecycle, then any value by itself),
    so that the order the events are applied in does not matter."""
    table, s = spec.name, stamp(column)
    old, new = f"{table}.{column}", f"excluded.{column}"
    states = spec.lifecycles.get(column)
    tie = f"{new} > {old}" if states is None else f"{_lifecycle_key(new, states)} > {_lifecycle_key(old, states)}"
    return f"({table}.{s} IS NULL OR excluded.{s} > {table}.{s} OR (excluded.{s} = {table}.{s} AND {tie}))"


def _merge_sql(spec: FactTable, column: str, merge: Merge) -> str:
    table = spec.name
    old, new = f"{table}.{column}", f"excluded.{column}"
    return {
        Merge.LATEST: f"CASE WHEN {_newer(spec, column)} THEN {new} ELSE {old} END",
        Merge.FILL: f"COALESCE({old}, {new})",
        Merge.MIN: f"CASE WHEN {old} IS NULL OR {new} < {old} THEN {new} ELSE {old} END",
        Merge.MAX: f"CASE WHEN {old} IS NULL OR {new} > {old} THEN {new} ELSE {old} END",
        Merge.ALL: f"CASE WHEN {old} IS NULL THEN {new} ELSE ({old} AND {new}) END",
        Merge.ANY: f"CASE WHEN {old} IS NULL THEN {new} ELSE ({old} OR {new}) END",
        Merge.ADD: f"{old} + {new}",
    }[merge]


def _upsert(spec: FactTable, columns: tuple[str, ...]) -> TextClause:
    cached = _UPSERTS.get((spec.name, columns))
    if cached is not None:
        return cached
    table = FACTS[spec.name]
    latest = [c for c in columns if spec.columns[c] is Merge.LATEST]
    names = (*columns, *(stamp(c) for c in latest), "updated_at", "updated_event")
    keys = ", ".join(spec.key)
    sql = (
        f"INSERT INTO {spec.name} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
        f"ON CONFLICT ({keys}) DO UPDATE SET "
    )
    newer = f"(excluded.updated_at, excluded.updated_event) > ({spec.name}.updated_at, {spec.name}.updated_event)"
    sets = [f"{c} = {_merge_sql(spec, c, spec.columns[c])}" for c in columns if spec.columns[c] is not Merge.KEY]
    # Every SET expression reads the old row, so a value and its stamp move together: the stamp is
    # the later of the two (on a tie both are the same time, whichever value won).
    sets += [
        f"{stamp(c)} = CASE WHEN {spec.name}.{stamp(c)} IS NULL OR excluded.{stamp(c)} > {spec.name}.{stamp(c)} "
        f"THEN excluded.{stamp(c)} ELSE {spec.name}.{stamp(c)} END"
        for c in latest
    ]
    # The last event applied (by time, then id): for the record, not for merging.
    sets += [
        f"{c} = CASE WHEN {newer} THEN excluded.{c} ELSE {spec.name}.{c} END" for c in ("updated_at", "updated_event")
    ]
    stmt = text(sql + ", ".join(sets)).bindparams(*[bindparam(n, type_=table.c[n].type) for n in names])
    _UPSERTS[(spec.name, columns)] = stmt
    return stmt


async def apply_patches(conn: AsyncConnection, patches: Iterable[Patch]) -> int:
    """Merge the patches into the fact tables; one executemany per table and set of columns (the
    merge rules make the result independent of the order)."""
    groups: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    specs: dict[str, FactTable] = {}
    count = 0
    for patch in patches:
        specs[patch.table.name] = patch.table
        stamps = {stamp(c): patch.at for c in patch.columns if patch.table.columns[c] is Merge.LATEST}
        groups[(patch.table.name, patch.columns)].append(
            {**patch.values, **stamps, "updated_at": patch.at, "updated_event": patch.event_id}
        )
        count += 1
    for (name, columns), params in groups.items():
        stmt = _upsert(specs[name], columns)
        await conn.execute(stmt, params if len(params) > 1 else params[0])
    return count


ROLLUPS = (service_level_day, service_level_day_change)


async def clear_projections(conn: AsyncConnection) -> None:
    """Empty the fact tables and what their triggers keep (TRUNCATE fires no row trigger)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"TRUNCATE {', '.join([*FACTS, *(t.name for t in ROLLUPS)])}"))
    else:
        for table in [*FACTS.values(), *ROLLUPS]:
            await conn.execute(delete(table))


async def log_batches(conn: AsyncConnection, batch_size: int) -> Any:
    """The whole event log, oldest first, in batches of CloudEvents (keyset pagination)."""
    after: tuple[datetime, str] | None = None
    while True:
        query = select(event_log.c.event_id, event_log.c.type, event_log.c.source, event_log.c.subject)
        query = query.add_columns(event_log.c.time, event_log.c.data)
        if after is not None:
            t, i = after
            query = query.where((event_log.c.time > t) | and_(event_log.c.time == t, event_log.c.event_id > i))
        rows = (await conn.execute(query.order_by(event_log.c.time, event_log.c.event_id).limit(batch_size))).all()
        if not rows:
            return
        yield [
            CloudEvent(id=r.event_id, type=r.type, source=r.source, subject=r.subject, time=r.time, data=r.data)
            for r in rows
        ]
        after = (rows[-1].time, rows[-1].event_id)


async def projection_snapshot(conn: AsyncConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every fact row without its order stamp, and the daily service-level figures (merged and
    not), sorted: to compare projections."""
    snapshot: dict[str, list[tuple[Any, ...]]] = {}
    for name, table in FACTS.items():
        cols = [c for c in table.c if c.name not in ("updated_at", "updated_event")]
        rows = (await conn.execute(select(*cols))).all()
        snapshot[name] = sorted((tuple(r) for r in rows), key=repr)
    keys = ("day", "service_id", "priority")
    both = union_all(*(select(*(t.c[c] for c in (*keys, *SERVICE_LEVEL_COUNTS))) for t in ROLLUPS)).subquery()
    days = select(*(both.c[k] for k in keys), *(func.sum(both.c[c]) for c in SERVICE_LEVEL_COUNTS)).group_by(
        *(both.c[k] for k in keys)
    )
    rows = (await conn.execute(days.having(func.sum(both.c.incidents) != 0))).all()
    snapshot["service_level_day"] = sorted(
        (tuple(int(v) if isinstance(v, Decimal) else v for v in r) for r in rows), key=repr
    )
    return snapshot


# The event log API


async def list_events(
    conn: AsyncConnection,
    *,
    type_: str | None,
    subject: str | None,
    source: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    query = select(event_log)
    if type_ is not None:
        query = query.where(event_log.c.type == type_)
    if subject is not None:
        query = query.where(event_log.c.subject == subject)
    if source is not None:
        query = query.where(event_log.c.source == source)
    if since is not None:
        query = query.where(event_log.c.time >= since)
    if until is not None:
        query = query.where(event_log.c.time < until)
    rows, total = await page(conn, query, event_log.c.time, event_log.c.event_id, limit=limit, offset=offset)
    return list(rows), total


# Report queries: aggregates in SQL, folded and rounded in domain.figures (availability and DORA:
# the few outage, deployment and change rows they need, computed there)


def _in_period(column: Any, filters: ReportFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.start is not None:
        conditions.append(column >= filters.start)
    if filters.end is not None:
        conditions.append(column < filters.end)
    return conditions


def _incident_conditions(filters: ReportFilters, *, period: bool = True) -> list[ColumnElement[bool]]:
    i = incident_facts
    conditions: list[ColumnElement[bool]] = [i.c.opened_at.is_not(None)]
    if period:
        conditions += _in_period(i.c.opened_at, filters)
    if filters.service_id is not None:
        conditions.append(i.c.service_id == filters.service_id)
    if filters.group is not None:
        conditions.append(i.c.assignment_group == filters.group)
    if filters.priority is not None:
        conditions.append(i.c.priority == filters.priority)
    if filters.supplier_id is not None:
        conditions.append(attributed_to(filters.supplier_id))
    return conditions


async def incident_counts(conn: AsyncConnection) -> list[tuple[str, int, int]]:
    i = incident_facts
    query = select(i.c.status, i.c.priority, func.count()).where(i.c.status.is_not(None), i.c.priority.is_not(None))
    rows = await conn.execute(query.group_by(i.c.status, i.c.priority))
    return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]


PERIODS = ("day", "week", "month")


def _period_label(conn: AsyncConnection, column: Any, granularity: str, *, of_day: bool = False) -> Any:
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


def _count_true(column: Any) -> Any:
    return func.count().filter(column.is_(True))


def sla_verdict(table: Any, target: str) -> ColumnElement[Any]:
    """Whether a ticket met an SLA target: its clock's result when the ticket service reported one
    (on resolution or fulfilment), otherwise missed if a breach was notified, otherwise unknown.

    The result wins over a breach notice: the notice is raised live, by the time it is raised,
    while the result is computed from the ticket's recorded times (it also covers a target moved by
    a priority change, and history imported with its original times while the watcher ran)."""
    notified = case((table.c[f"{target}_breached"].is_(True), false()), else_=null())
    return func.coalesce(table.c[f"{target}_met"], notified)


def _not_in(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """`column NOT IN values`, true for NULL too (as `None not in values` is in Python)."""
    return or_(column.is_(None), column.not_in(list(values)))


def _seconds(conn: AsyncConnection, aggregate: Any, later: Any, earlier: Any, *where: Any) -> Any:
    """`aggregate` (sum, max) of `later - earlier` over the rows `where` selects, in seconds, exact
    to the microsecond. PostgreSQL: of the intervals (no numeric per row), converted once per group;
    SQLite: of the differences of the text SQLAlchemy stores, 'YYYY-MM-DD HH:MM:SS.ffffff', in
    whole seconds and microseconds."""
    if conn.dialect.name == "postgresql":
        return extract("epoch", aggregate(later - earlier).filter(*where))

    def micros(moment: Any) -> Any:
        return cast(func.strftime("%s", moment), Integer) * 1_000_000 + cast(func.substr(moment, 21, 6), Integer)

    return aggregate((micros(later) - micros(earlier)) / 1_000_000.0).filter(*where)


def _moment(value: datetime) -> Any:
    return literal(value, UtcDateTime())


_AGGREGATING = text("SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)")


async def _aggregating(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        # The cost estimate of a scan of every incident turns JIT compilation on, which took about
        # a fifth of the time of these (short) aggregates over 1,000,000 rows. And a plan for the
        # values at hand every time: from its sixth run on, PostgreSQL may keep a generic plan of
        # a prepared statement (asyncpg prepares them), blind to the period, which ran these twice
        # as long. For this transaction only.
        await conn.execute(_AGGREGATING)


def _period_text(value: Any) -> Any:
    return value.date().isoformat() if isinstance(value, datetime) else value


def _numbers(row: Any, *, floats: Iterable[str] = (), extremes: Iterable[str] = ()) -> dict[str, Any]:
    """A result row as a dict of plain numbers: `floats` (sums of seconds) as float, 0.0 when
    nothing was summed, `extremes` (of seconds) as float or None; other numerics (PostgreSQL's
    sum of a bigint) as int."""
    out = {k: int(v) if isinstance(v, Decimal) else v for k, v in row._mapping.items()}
    for name in floats:
        out[name] = float(row._mapping[name] or 0)
    for name in extremes:
        out[name] = None if row._mapping[name] is None else float(row._mapping[name])
    return out


def _midnight(moment: datetime | None) -> bool:
    return moment is None or moment.astimezone(UTC).time() == time(0)


def service_levels_by_day(filters: ReportFilters) -> bool:
    """Whether the daily figures answer: no group or supplier filter (not kept per day), a period
    of whole UTC days (and not the nil UUID as the service: it stands for none there)."""
    kept = filters.group is None and filters.supplier_id is None and filters.service_id != NO_SERVICE
    return kept and _midnight(filters.start) and _midnight(filters.end)


async def service_level_groups(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """Per (period, service, priority): incidents, and response/resolution targets measured and met."""
    if service_levels_by_day(filters):
        return await _service_level_day_groups(conn, filters)
    return await service_level_fact_groups(conn, filters)


async def _service_level_day_groups(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """The same from the daily figures: their merged rows and the changes not merged yet, summed."""
    parts = []
    for table in (service_level_day, service_level_day_change):
        conditions: list[ColumnElement[bool]] = []
        if filters.start is not None:
            conditions.append(table.c.day >= filters.start.astimezone(UTC).date())
        if filters.end is not None:
            conditions.append(table.c.day < filters.end.astimezone(UTC).date())
        if filters.service_id is not None:
            conditions.append(table.c.service_id == filters.service_id)
        if filters.priority is not None:
            conditions.append(table.c.priority == filters.priority)
        columns = [table.c.day, table.c.service_id, table.c.priority, *(table.c[c] for c in SERVICE_LEVEL_COUNTS)]
        parts.append(select(*columns).where(*conditions))
    days = union_all(*parts).subquery("days")
    period = _period_label(conn, days.c.day, filters.period or "month", of_day=True).label("period")
    query = (
        select(
            period,
            days.c.service_id,
            days.c.priority,
            *(func.sum(days.c[c]).label(c) for c in SERVICE_LEVEL_COUNTS),
        )
        .group_by(literal_column("1"), days.c.service_id, days.c.priority)
        .having(func.sum(days.c.incidents) != 0)
    )
    groups = []
    for r in await conn.execute(query):
        group = {k: int(v) if k in SERVICE_LEVEL_COUNTS else v for k, v in r._mapping.items()}
        group["period"] = _period_text(group["period"])
        group["service_id"] = None if group["service_id"] == NO_SERVICE else group["service_id"]
        groups.append(group)
    return groups


async def service_level_fact_groups(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """`service_level_groups` from the incident facts (any filter)."""
    i = incident_facts
    period = _period_label(conn, i.c.opened_at, filters.period or "month").label("period")
    response, resolution = sla_verdict(i, "response"), sla_verdict(i, "resolution")
    query = (
        select(
            period,
            i.c.service_id,
            i.c.priority,
            func.count().label("incidents"),
            func.count(response).label("response_measured"),
            _count_true(response).label("response_met"),
            func.count(resolution).label("resolution_measured"),
            _count_true(resolution).label("resolution_met"),
        )
        .where(*_incident_conditions(filters), i.c.priority.is_not(None))
        .group_by(literal_column("1"), i.c.service_id, i.c.priority)
    )
    await _aggregating(conn)
    groups = []
    for r in await conn.execute(query):
        group = {
            k: (int(v) if k not in ("period", "service_id") and v is not None else v) for k, v in r._mapping.items()
        }
        group["period"] = _period_text(group["period"])
        groups.append(group)
    return groups


async def incident_groups(conn: AsyncConnection, filters: ReportFilters, now: datetime) -> list[dict[str, Any]]:
    """Per (service, group), the sums `figures.incidents_rows` folds: counts, seconds summed (to
    resolve, of backlog age at `now`, to first response), the oldest open incident's opened_at."""
    i = incident_facts
    resolved = and_(i.c.status.in_(RESOLVED_INCIDENT), i.c.resolved_at.is_not(None))
    backlog = _not_in(i.c.status, CLOSED_INCIDENT)
    query = (
        select(
            i.c.service_id,
            i.c.assignment_group,
            func.count().label("opened"),
            func.count().filter(resolved).label("resolved"),
            _seconds(conn, func.sum, i.c.resolved_at, i.c.opened_at, resolved).label("resolve_s"),
            func.count().filter(backlog).label("backlog"),
            _seconds(conn, func.sum, _moment(now), i.c.opened_at, backlog).label("backlog_age_s"),
            func.min(i.c.opened_at).filter(backlog).label("backlog_oldest_opened_at"),
            func.count(i.c.first_response_at).label("responded"),
            _seconds(conn, func.sum, i.c.first_response_at, i.c.opened_at).label("response_s"),
            func.count().filter(i.c.major.is_(True)).label("major"),
            func.coalesce(func.sum(i.c.reassignments), 0).label("reassignments"),
        )
        .where(*_incident_conditions(filters))
        .group_by(i.c.service_id, i.c.assignment_group)
    )
    await _aggregating(conn)
    floats = ("resolve_s", "backlog_age_s", "response_s")
    return [_numbers(r, floats=floats) for r in await conn.execute(query)]


async def major_incident_numbers(conn: AsyncConnection, filters: ReportFilters) -> list[str]:
    """The numbers of the major incidents (a few: through their partial index, not in the scan
    above, where an array aggregate would keep PostgreSQL from aggregating in parallel)."""
    i = incident_facts
    query = select(i.c.number).where(*_incident_conditions(filters), i.c.major.is_(True), i.c.number.is_not(None))
    return [str(n) for n in (await conn.execute(query)).scalars()]


async def workload_groups(conn: AsyncConnection, filters: ReportFilters) -> tuple[list[Any], list[Any]]:
    """Per (period, group): incidents opened, resolved now, their reassignments and escalations;
    requests submitted and fulfilled now."""
    granularity = filters.period or "day"
    i, r = incident_facts, request_facts
    incidents = (
        select(
            _period_label(conn, i.c.opened_at, granularity).label("period"),
            i.c.assignment_group,
            func.count().label("opened"),
            func.count().filter(i.c.status.in_(RESOLVED_INCIDENT)).label("resolved"),
            func.coalesce(func.sum(i.c.reassignments), 0).label("reassignments"),
            func.coalesce(func.sum(i.c.escalations), 0).label("escalations"),
        )
        .where(*_incident_conditions(filters))
        .group_by(literal_column("1"), i.c.assignment_group)
    )
    requests = (
        select(
            _period_label(conn, r.c.submitted_at, granularity).label("period"),
            r.c.assignment_group,
            func.count().label("submitted"),
            func.count(r.c.fulfilled_at).label("fulfilled"),
        )
        .where(*_request_conditions(filters))
        .group_by(literal_column("1"), r.c.assignment_group)
    )
    await _aggregating(conn)
    found = []
    for query in (incidents, requests):
        found.append([_numbers(row) | {"period": _period_text(row.period)} for row in await conn.execute(query)])
    return found[0], found[1]


def _uuid_text(conn: AsyncConnection, column: Any) -> Any:
    """A UUID column as `str(uuid)` writes it (SQLite stores 32 hex digits)."""
    if conn.dialect.name == "postgresql":
        return cast(column, String)
    parts = [func.substr(column, start, length) for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))]
    return func.lower(parts[0] + "-" + parts[1] + "-" + parts[2] + "-" + parts[3] + "-" + parts[4])


async def hotspot_groups(conn: AsyncConnection, filters: ReportFilters, limit: int) -> tuple[list[Any], dict[str, int]]:
    """The `limit` CIs with the most incidents (ties by name, else id, in code point order), each
    with its counts, distinct problems, latest opened_at and the service of that latest incident;
    and the totals over every CI (how many, their incidents, those without a CI, the CIs with a
    recurrence or at least 3 incidents). One scan; then the few incidents of those CIs that are
    linked to a problem, and their latest ones, by index."""
    i, c = incident_facts, ci_facts
    n = func.count()
    recurring = func.count().filter(i.c.problem_link_reason == "recurrence")
    on_ci, no_ci = i.c.ci_id.is_not(None), i.c.ci_id.is_(None)
    per_ci = (
        select(
            i.c.ci_id,
            n.label("incidents"),
            func.count().filter(_not_in(i.c.status, CLOSED_INCIDENT)).label("open"),
            _count_true(i.c.major).label("major"),
            recurring.label("recurring"),
            func.max(i.c.opened_at).label("last_opened_at"),
            # Incidents without a CI are one group here, ranked last and counted apart.
            func.rank().over(order_by=case((no_ci, -1), else_=n).desc()).label("ranked"),
            func.sum(case((on_ci, 1), else_=0)).over().label("cis"),
            func.sum(case((on_ci, n), else_=0)).over().label("incidents_on_cis"),
            func.sum(case((no_ci, n), else_=0)).over().label("incidents_without_ci"),
            func.sum(case((and_(on_ci, or_(recurring > 0, n >= 3)), 1), else_=0)).over().label("cis_with_recurrence"),
        )
        .where(*_incident_conditions(filters))
        .group_by(i.c.ci_id)
        .subquery("per_ci")
    )
    # Compared as Python compares str (code points): the C collation, SQLite's default BINARY.
    name = func.coalesce(func.nullif(c.c.name, ""), _uuid_text(conn, per_ci.c.ci_id)).collate(
        "C" if conn.dialect.name == "postgresql" else "BINARY"
    )
    query = (
        select(per_ci)
        .select_from(per_ci.outerjoin(c, c.c.ci_id == per_ci.c.ci_id))
        .where(per_ci.c.ci_id.is_not(None), per_ci.c.ranked <= limit)  # every CI tied with the last one
        .order_by(per_ci.c.incidents.desc(), name)
        .limit(limit)
    )
    await _aggregating(conn)
    top = [_numbers(r) for r in await conn.execute(query)]
    totals = ("cis", "incidents_on_cis", "incidents_without_ci", "cis_with_recurrence")
    if not top:
        without = await conn.scalar(select(func.count()).where(*_incident_conditions(filters), no_ci))
        return [], dict.fromkeys(totals, 0) | {"incidents_without_ci": int(without or 0)}
    summary = {k: int(top[0][k]) for k in totals}
    # A count(DISTINCT) in the scan above would sort every incident; these few use an index.
    linked = [*_incident_conditions(filters), i.c.ci_id.in_([r["ci_id"] for r in top]), i.c.problem_id.is_not(None)]
    problems = select(i.c.ci_id, func.count(distinct(i.c.problem_id))).where(*linked).group_by(i.c.ci_id)
    distinct_problems = {r[0]: int(r[1]) for r in await conn.execute(problems)}
    # The latest incident of each: looked up by its opened_at (an index), matched to its CI here.
    wanted = {(r["ci_id"], r["last_opened_at"]) for r in top}
    latest = select(i.c.ci_id, i.c.opened_at, i.c.service_id).where(
        *_incident_conditions(filters),
        i.c.opened_at.in_(sorted({at for _, at in wanted})),
        i.c.ci_id.in_([r["ci_id"] for r in top]),
    )
    services: dict[Any, list[Any]] = defaultdict(list)
    for ci_id, opened_at, service_id in await conn.execute(latest):
        if (ci_id, opened_at) in wanted:
            services[ci_id].append(service_id)
    for row in top:
        # Two latest incidents opened at the same instant: the first service id (none first).
        row["service_id"] = min(services[row["ci_id"]], key=lambda s: "" if s is None else str(s), default=None)
        row["problems"] = distinct_problems.get(row["ci_id"], 0)
        for k in (*totals, "ranked"):
            del row[k]
    return top, summary


async def outage_incidents(
    conn: AsyncConnection, filters: ReportFilters, window: Window, *, resolved_in_window: bool = False
) -> list[dict[str, Any]]:
    """Priority 1 or major incidents on a service overlapping the window (or, with
    `resolved_in_window`, resolved in it): their service, opened_at and resolved_at."""
    i = incident_facts
    conditions: list[ColumnElement[bool]] = [
        i.c.opened_at.is_not(None),
        i.c.service_id.is_not(None),
        OUTAGE,
    ]
    if resolved_in_window:
        conditions += [i.c.resolved_at >= window.start, i.c.resolved_at < window.end]
    else:
        conditions += [i.c.opened_at < window.end, i.c.resolved_at.is_(None) | (i.c.resolved_at > window.start)]
    if filters.service_id is not None:
        conditions.append(i.c.service_id == filters.service_id)
    return await _dicts(conn, select(i.c.service_id, i.c.opened_at, i.c.resolved_at).where(*conditions))


async def _dicts(conn: AsyncConnection, query: Any) -> list[dict[str, Any]]:
    result = await conn.execute(query)
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def _request_conditions(filters: ReportFilters) -> list[ColumnElement[bool]]:
    r = request_facts
    conditions: list[ColumnElement[bool]] = [r.c.submitted_at.is_not(None), *_in_period(r.c.submitted_at, filters)]
    if filters.service_id is not None:
        conditions.append(r.c.service_id == filters.service_id)
    if filters.group is not None:
        conditions.append(r.c.assignment_group == filters.group)
    if filters.priority is not None:
        conditions.append(r.c.priority == filters.priority)
    return conditions


async def request_groups(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """Per (service, catalogue item): counts by outcome, fulfilment seconds (sum, max), targets measured and met."""
    r = request_facts
    query = (
        select(
            r.c.service_id,
            r.c.catalogue_item,
            func.count().label("submitted"),
            func.count(r.c.fulfilled_at).label("fulfilled"),
            func.count().filter(_not_in(r.c.status, FINISHED_REQUEST)).label("open"),
            func.count().filter(r.c.status == "rejected").label("rejected"),
            func.count().filter(r.c.status == "cancelled").label("cancelled"),
            _seconds(conn, func.sum, r.c.fulfilled_at, r.c.submitted_at).label("fulfilment_s"),
            _seconds(conn, func.max, r.c.fulfilled_at, r.c.submitted_at).label("max_fulfilment_s"),
            func.count(sla_verdict(r, "fulfilment")).label("measured"),
            _count_true(sla_verdict(r, "fulfilment")).label("met"),
        )
        .where(*_request_conditions(filters))
        .group_by(r.c.service_id, r.c.catalogue_item)
    )
    await _aggregating(conn)
    return [
        _numbers(row, floats=("fulfilment_s",), extremes=("max_fulfilment_s",)) for row in await conn.execute(query)
    ]


async def problem_groups(conn: AsyncConnection, filters: ReportFilters) -> tuple[list[Any], list[Any]]:
    """Per service: problems by state and origin with their linked incidents; and the incidents
    (by the incident filters) linked to a problem as a recurrence."""
    p, i = problem_facts, incident_facts
    conditions: list[ColumnElement[bool]] = [p.c.opened_at.is_not(None), *_in_period(p.c.opened_at, filters)]
    if filters.service_id is not None:
        conditions.append(p.c.service_id == filters.service_id)
    finished = p.c.status.in_(FINISHED_PROBLEM)
    problems = (
        select(
            p.c.service_id,
            func.count().label("opened"),
            func.count().filter(_not_in(p.c.status, FINISHED_PROBLEM)).label("open"),
            func.count(p.c.known_error_at).label("known_errors"),
            func.count().filter(finished).label("resolved"),
            func.count().filter(finished, p.c.change_id.is_not(None)).label("resolved_by_change"),
            func.count().filter(p.c.origin == "recurrence").label("from_recurrence"),
            func.coalesce(func.sum(p.c.incident_count), 0).label("linked_incidents"),
        )
        .where(*conditions)
        .group_by(p.c.service_id)
    )
    recurring = (
        select(i.c.service_id, func.count().label("incidents"))
        .where(*_incident_conditions(filters), RECURRENCE)
        .group_by(i.c.service_id)
    )
    await _aggregating(conn)
    return [_numbers(r) for r in await conn.execute(problems)], [_numbers(r) for r in await conn.execute(recurring)]


def _change_conditions(filters: ReportFilters, *, period_column: Any | None) -> list[ColumnElement[bool]]:
    c = change_facts
    conditions: list[ColumnElement[bool]] = []
    if period_column is not None:
        conditions += _in_period(period_column, filters)
    if filters.service_id is not None:
        s = change_service_facts
        conditions.append(
            c.c.change_id.in_(select(s.c.change_id).where(s.c.service_id == filters.service_id).scalar_subquery())
        )
    return conditions


async def change_groups(conn: AsyncConnection, filters: ReportFilters) -> list[dict[str, Any]]:
    """Per type: changes recorded, implemented (and not failed), failed, backed out, and the
    incidents linked to them as caused by the change."""
    c, x = change_facts, change_incident_facts
    caused = select(x.c.change_id, func.count().label("incidents")).group_by(x.c.change_id).subquery("caused")
    failed = c.c.failed_at.is_not(None)
    query = (
        select(
            c.c.type,
            func.count().label("changes"),
            func.count().filter(c.c.implemented_at.is_not(None), c.c.failed_at.is_(None)).label("implemented"),
            func.count().filter(failed).label("failed"),
            func.count().filter(failed, c.c.backed_out.is_(True)).label("backed_out"),
            func.coalesce(func.sum(caused.c.incidents), 0).label("incidents_caused"),
        )
        .select_from(c.outerjoin(caused, caused.c.change_id == c.c.change_id))
        .where(*_change_conditions(filters, period_column=c.c.created_at))
        .group_by(c.c.type)
    )
    return [_numbers(r) for r in await conn.execute(query)]


async def dora_changes(conn: AsyncConnection, filters: ReportFilters, window: Window) -> list[dict[str, Any]]:
    """The changes implemented (not failed) in the window, once per service they name (only the
    one asked for, with a service filter): what lead time for changes reads."""
    c, s = change_facts, change_service_facts
    query = (
        select(s.c.service_id, c.c.change_id, c.c.created_at, c.c.implemented_at, c.c.failed_at)
        .join(s, s.c.change_id == c.c.change_id)
        .where(
            c.c.created_at.is_not(None),
            c.c.failed_at.is_(None),
            c.c.implemented_at >= window.start,
            c.c.implemented_at < window.end,
        )
    )
    if filters.service_id is not None:
        query = query.where(s.c.service_id == filters.service_id)
    return await _dicts(conn, query)


async def dora_deployments(conn: AsyncConnection, filters: ReportFilters, window: Window) -> list[dict[str, Any]]:
    """Production deployments to a service that finished in the window, each with whether its
    change caused an incident."""
    d, x = deployment_facts, change_incident_facts
    conditions: list[ColumnElement[bool]] = [
        d.c.service_id.is_not(None),
        d.c.environment.in_(PRODUCTION),
        d.c.result.in_(FINISHED_DEPLOYMENT),
        d.c.finished_at >= window.start,
        d.c.finished_at < window.end,
    ]
    if filters.service_id is not None:
        conditions.append(d.c.service_id == filters.service_id)
    caused = d.c.change_id.in_(select(x.c.change_id).scalar_subquery()).label("caused_incident")
    query = select(d.c.service_id, d.c.environment, d.c.result, d.c.change_id, d.c.finished_at, caused)
    return await _dicts(conn, query.where(*conditions))


async def service_names(conn: AsyncConnection, ids: Iterable[Any] | None = None) -> dict[str, str]:
    """Names of CIs, by id (a service is a CI): every named CI, or only those of `ids`."""
    c = ci_facts
    query = select(c.c.ci_id, c.c.name).where(c.c.name.is_not(None))
    if ids is None:
        return {str(r[0]): str(r[1]) for r in await conn.execute(query)}
    wanted = sorted({uuid.UUID(str(i)) for i in ids if i is not None and str(i) != ""})
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # SQLite's bound parameter limit
        rows = await conn.execute(query.where(c.c.ci_id.in_(wanted[start : start + 500])))
        names.update({str(r[0]): str(r[1]) for r in rows})
    return names


SERVICE_TYPES = ("service", "business_service", "technical_service")


async def services(conn: AsyncConnection, filters: ReportFilters) -> list[str]:
    c = ci_facts
    conditions: list[ColumnElement[bool]] = [
        c.c.type.in_(SERVICE_TYPES),
        (c.c.status != "retired") | c.c.status.is_(None),
    ]
    if filters.service_id is not None:
        conditions.append(c.c.ci_id == filters.service_id)
    return [str(r[0]) for r in await conn.execute(select(c.c.ci_id).where(*conditions))]


async def cmdb_groups(conn: AsyncConnection, filters: ReportFilters) -> tuple[list[Any], dict[str, int]]:
    """CIs per (type, status): how many, how many critical (1), the unauthorised changes detected
    on them in the period; and the findings of the period by kind."""
    c, f = ci_facts, cmdb_finding_facts
    found = (
        select(f.c.ci_id, func.count().label("findings"))
        .where(f.c.kind == "unauthorised_change", f.c.ci_id.is_not(None), *_in_period(f.c.detected_at, filters))
        .group_by(f.c.ci_id)
        .subquery("found")
    )
    conditions: list[ColumnElement[bool]] = [c.c.type.is_not(None)]
    if filters.service_id is not None:
        conditions.append(c.c.service_id == filters.service_id)
    if filters.supplier_id is not None:
        conditions.append(c.c.supplier_id == filters.supplier_id)
    query = (
        select(
            c.c.type,
            c.c.status,
            func.count().label("cis"),
            func.count().filter(c.c.criticality == 1).label("critical"),
            func.coalesce(func.sum(found.c.findings), 0).label("unauthorised_changes"),
        )
        .select_from(c.outerjoin(found, found.c.ci_id == c.c.ci_id))
        .where(*conditions)
        .group_by(c.c.type, c.c.status)
    )
    kinds = select(f.c.kind, func.count()).where(*_in_period(f.c.detected_at, filters)).group_by(f.c.kind)
    groups = [_numbers(r) for r in await conn.execute(query)]
    return groups, {str(r[0]): int(r[1]) for r in await conn.execute(kinds) if r[0] is not None}


# Suppliers: which incidents count toward a supplier, and the scorecards


def in_force(k: Table, at: Any) -> ColumnElement[bool]:
    """Contract `k` was in force at `at`: activated by then, within its term (starts_on to ends_on,
    the latest term when renewed), and not terminated or expired before."""
    return and_(
        k.c.activated_at <= at,
        k.c.starts_on <= at,
        at < k.c.ends_on,
        or_(k.c.ended_at.is_(None), at < k.c.ended_at),
    )


def covered_at(c: Table, at: Any) -> ColumnElement[bool]:
    """Coverage row `c` (a CI or service of a contract) was covered at `at`."""
    return and_(c.c.added_at <= at, or_(c.c.covered.is_(True), at < c.c.removed_at))


# What a contract's coverage rows match on an incident: its CI, its service.
_COVERED_BY = (("ci", "ci_id"), ("service", "service_id"))


def _covering(i: Any, kind: str, column: str) -> Any:
    """Incidents `i` joined to the coverage rows of their CI or service, and those rows' contracts."""
    c, k = contract_coverage_facts, contract_facts
    return c.join(k, k.c.contract_id == c.c.contract_id).join(
        i, and_(c.c.item_kind == kind, c.c.item_id == i.c[column])
    )


def _covered_when_opened(i: Any) -> list[ColumnElement[bool]]:
    """The coverage row joined by `_covering` held, and its contract was in force, when the incident
    opened. The time is compared as an expression no index answers (COALESCE(x, x)): otherwise
    PostgreSQL also walks the whole opened_at index for each contract (its row estimate for these
    ranges is far too low) where the rows of the item's index are few."""
    at = func.coalesce(i.c.opened_at, i.c.opened_at)
    return [covered_at(contract_coverage_facts, at), in_force(contract_facts, at)]


def attributed_to(supplier_id: Any) -> ColumnElement[bool]:
    """The incident counts toward the supplier: it is assigned to it, or its CI or service was
    covered by a contract of the supplier in force when the incident opened.

    The incidents of each reason come from the supplier_id, ci_id and service_id indexes, once
    per statement: a MATERIALIZED common table expression (`incident_id IN (SELECT ... FROM it)`;
    an incident with several reasons is one row of the outer query all the same). Inlined, the
    union was the inner side of a nested-loop semi-join, run again for each outer row, as
    PostgreSQL estimates it at a few hundred rows where a supplier has tens of thousands.
    """
    i = incident_facts.alias("attributed")
    k = contract_facts
    reasons = [select(i.c.incident_id).where(i.c.supplier_id.is_not(None), i.c.supplier_id == supplier_id)]
    for kind, column in _COVERED_BY:
        reasons.append(
            select(i.c.incident_id)
            .select_from(_covering(i, kind, column))
            .where(i.c[column].is_not(None), k.c.supplier_id == supplier_id, *_covered_when_opened(i))
        )
    ids = union_all(*reasons).cte("attributed_ids").prefix_with("MATERIALIZED")
    return incident_facts.c.incident_id.in_(select(ids.c.incident_id))


def _supplier_condition(table: Table, filters: ReportFilters) -> list[ColumnElement[bool]]:
    return [] if filters.supplier_id is None else [table.c.supplier_id == filters.supplier_id]


def _attributions(filters: ReportFilters) -> Any:
    """(supplier_id, incident_id, status, resolution_met): each incident the filters select once
    for each supplier it counts toward (see `attributed_to`); UNION drops the repeats (an incident
    assigned to a supplier and on a CI its contract covers, or on a covered CI of a covered service)."""
    i, k = incident_facts, contract_facts
    conditions = _incident_conditions(replace(filters, supplier_id=None))
    wanted = filters.supplier_id
    facts = (i.c.incident_id, i.c.status, sla_verdict(i, "resolution").label("resolution_met"))
    arms = [
        select(i.c.supplier_id.label("supplier_id"), *facts).where(
            *conditions,
            i.c.supplier_id.is_not(None) if wanted is None else i.c.supplier_id == wanted,
        )
    ]
    for kind, column in _COVERED_BY:
        arms.append(
            select(k.c.supplier_id.label("supplier_id"), *facts)
            .select_from(_covering(i, kind, column))
            .where(
                *conditions,
                i.c[column].is_not(None),
                *_covered_when_opened(i),
                *([] if wanted is None else [k.c.supplier_id == wanted]),
            )
        )
    return union(*arms)


async def supplier_scorecards(conn: AsyncConnection, filters: ReportFilters, now: datetime) -> list[dict[str, Any]]:
    """Per supplier (registered, counted an incident or missed a target): its contracts in force
    now (active or expiring, and within their term), the incidents counted toward it (resolved,
    resolution measured and met), targets missed by metric, open disputes. One statement;
    `from`/`to` select incidents and breaches."""
    await _aggregating(conn)  # custom plans, no JIT (a generic plan took 6-7 s in place of ~1 s)
    if conn.dialect.name == "postgresql":
        # The memory to remove the repeats of the attribution union in memory (~360,000 rows over
        # 1,000,000 incidents: sorted on disk with the default 4 MB); for this transaction only.
        await conn.execute(text("SET LOCAL work_mem = '64MB'"))
    return [dict(r._mapping) for r in await conn.execute(_scorecards(filters, now))]


def _scorecards(filters: ReportFilters, now: datetime) -> Any:
    s, k, b, d = supplier_facts, contract_facts, supplier_breach_facts, dispute_facts
    attributed = _attributions(filters).cte("attributed")
    incidents = (
        select(
            attributed.c.supplier_id,
            func.count().label("incidents"),
            func.count().filter(attributed.c.status.in_(RESOLVED_INCIDENT)).label("incidents_resolved"),
            func.count(attributed.c.resolution_met).label("resolution_measured"),
            _count_true(attributed.c.resolution_met).label("resolution_met"),
        )
        .group_by(attributed.c.supplier_id)
        .subquery("incidents")
    )
    breach_conditions = [b.c.supplier_id.is_not(None), *_in_period(b.c.occurred_at, filters)]
    breach_conditions += _supplier_condition(b, filters)
    breaches = (
        select(
            b.c.supplier_id,
            func.count().label("target_breaches"),
            *(func.count().filter(b.c.metric == m).label(f"{m}_breaches") for m in BREACH_METRICS),
        )
        .where(*breach_conditions)
        .group_by(b.c.supplier_id)
        .subquery("breaches")
    )
    contracts = (
        select(k.c.supplier_id, func.count().label("active_contracts"))
        .where(k.c.status.in_(sorted(CONTRACT_IN_FORCE)), in_force(k, now), *_supplier_condition(k, filters))
        .group_by(k.c.supplier_id)
        .subquery("contracts")
    )
    disputes = (
        select(d.c.supplier_id, func.count().label("open_disputes"))
        .where(or_(d.c.status.is_(None), d.c.status != "closed"), *_supplier_condition(d, filters))
        .group_by(d.c.supplier_id)
        .subquery("disputes")
    )
    ids = union(
        select(s.c.supplier_id).where(*_supplier_condition(s, filters)),
        select(incidents.c.supplier_id),  # its ~20 grouped rows, not the ~360,000 attributions again
        select(b.c.supplier_id).where(*breach_conditions),
    ).subquery("ids")
    counts = [contracts.c.active_contracts, *(c for c in incidents.c if c.name != "supplier_id")]
    counts += [c for c in breaches.c if c.name != "supplier_id"]
    counts.append(disputes.c.open_disputes)
    query = (
        select(
            ids.c.supplier_id,
            s.c.name.label("supplier_name"),
            s.c.status,
            *(func.coalesce(c, 0).label(c.name) for c in counts),
        )
        .select_from(
            ids.outerjoin(s, s.c.supplier_id == ids.c.supplier_id)
            .outerjoin(contracts, contracts.c.supplier_id == ids.c.supplier_id)
            .outerjoin(incidents, incidents.c.supplier_id == ids.c.supplier_id)
            .outerjoin(breaches, breaches.c.supplier_id == ids.c.supplier_id)
            .outerjoin(disputes, disputes.c.supplier_id == ids.c.supplier_id)
        )
        .order_by(ids.c.supplier_id)
    )
    return query


async def compact_service_level_days(conn: AsyncConnection) -> int:
    """Merge the daily figures' change rows into `service_level_day`; the daily rows written. Exact
    beside concurrent writers: on PostgreSQL the rows merged are those one statement deleted (a
    row committed meanwhile stays for the next pass), and a second replica skips its pass while
    one runs; SQLite runs one writer at a time."""
    counts = ", ".join(SERVICE_LEVEL_COUNTS)
    sums = ", ".join(f"sum({c})" for c in SERVICE_LEVEL_COUNTS)
    add = ", ".join(f"{c} = service_level_day.{c} + excluded.{c}" for c in SERVICE_LEVEL_COUNTS)
    upsert = f"ON CONFLICT (day, service_id, priority) DO UPDATE SET {add}"
    if conn.dialect.name == "postgresql":
        if not await conn.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext('service_level_day'))")):
            return 0
        merged = await conn.execute(
            text(
                f"WITH moved AS (DELETE FROM service_level_day_change RETURNING day, service_id, priority, {counts}) "
                f"INSERT INTO service_level_day (day, service_id, priority, {counts}) "
                f"SELECT day, service_id, priority, {sums} FROM moved GROUP BY day, service_id, priority "
                f"ORDER BY day, service_id, priority {upsert}"
            )
        )
        return int(merged.rowcount or 0)
    last = await conn.scalar(select(func.max(service_level_day_change.c.id)))
    if last is None:
        return 0
    merged = await conn.execute(
        text(
            f"INSERT INTO service_level_day (day, service_id, priority, {counts}) "
            f"SELECT day, service_id, priority, {sums} FROM service_level_day_change WHERE id <= :last "
            f"GROUP BY day, service_id, priority {upsert}"
        ),
        {"last": last},
    )
    await conn.execute(delete(service_level_day_change).where(service_level_day_change.c.id <= last))
    return int(merged.rowcount or 0)


# Scheduled report runs


async def insert_run(conn: AsyncConnection, row: dict[str, Any]) -> bool:
    """Store a run; False when this report's period already has one (another replica made it)."""
    stmt = insert_ignoring_duplicates(conn, report_run).values(row).returning(report_run.c.run_id)
    return (await conn.execute(stmt)).first() is not None


async def run_exists(conn: AsyncConnection, report: str, frequency: str, period_start: datetime) -> bool:
    r = report_run
    query = select(r.c.run_id).where(r.c.report == report, r.c.frequency == frequency, r.c.period_start == period_start)
    return (await conn.execute(query)).first() is not None


async def list_runs(conn: AsyncConnection, *, report: str | None, limit: int, offset: int) -> tuple[list[Any], int]:
    r = report_run
    query = select(*(c for c in r.c if c.name != "body"))
    if report is not None:
        query = query.where(r.c.report == report)
    return await page(conn, query, r.c.generated_at.desc(), r.c.run_id, limit=limit, offset=offset)


async def get_run(conn: AsyncConnection, run_id: Any) -> Any | None:
    return (await conn.execute(select(report_run).where(report_run.c.run_id == run_id))).first()
