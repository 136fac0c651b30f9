"""The projections' writes: fact patches merged by one upsert per table and column set, emptied for a
rebuild, compared in tests; and the merge of the daily service-level figures' changes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import TextClause, bindparam, delete, func, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.facts import FactTable, Merge, Patch
from services.reporting.store.fact_columns import stamp
from services.reporting.store.tables import FACTS, SERVICE_LEVEL_COUNTS, service_level_day, service_level_day_change

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
