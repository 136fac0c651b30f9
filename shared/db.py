"""Async SQLAlchemy: metadata with a naming convention, engines and session factories.

SQLite (aiosqlite) is the embedded default for a one-machine run, PostgreSQL (asyncpg) the
production database. Engines are created through the module attribute of
`sqlalchemy.ext.asyncio` so that the OpenTelemetry instrumentation, which wraps it, sees them.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy.ext.asyncio as sa_asyncio
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    Select,
    Table,
    TextClause,
    TypeDecorator,
    bindparam,
    event,
    exc,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from shared.errors import PreconditionFailed
from shared.metrics import watch_pool

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# An auto-incrementing 64-bit key; SQLite only auto-increments INTEGER PRIMARY KEY.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, also on SQLite (which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, pool_size: int = 10, pool_name: str | None = None) -> AsyncEngine:
    """`pool_name` names the pool in logs and in the pool metrics (`pool_name` label); without
    it they show the URL less its credentials."""
    parsed = make_url(url)
    kwargs: dict[str, Any]
    asyncpg = False
    if is_sqlite(parsed):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"connect_args": {"timeout": 30}}
    else:
        # Up to 2 x pool_size connections, as before (pool_size + as many overflow), but all of
        # them kept once opened: an overflow connection was closed on its return whenever
        # pool_size others were idle, so a busy service kept opening new PostgreSQL sessions
        # (a backend fork, TLS probe, authentication, statements prepared again) every few
        # dozen requests. Connections are still opened only when needed.
        kwargs = {"pool_size": 2 * pool_size, "max_overflow": 0}
        asyncpg = parsed.get_driver_name() == "asyncpg"
        # asyncpg gets the same protection as pre-ping without its three round trips per
        # checkout (BEGIN; ";"; ROLLBACK): see `_refuse_closed_connection`.
        kwargs["pool_pre_ping"] = not asyncpg
    if pool_name is not None:
        kwargs["pool_logging_name"] = pool_name
    engine = sa_asyncio.create_async_engine(parsed, **kwargs)
    if is_sqlite(parsed):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # The sqlite3 driver opens transactions itself and so breaks SAVEPOINT; let SQLAlchemy
        # issue BEGIN instead (the recipe from SQLAlchemy's SQLite dialect documentation).
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    if asyncpg:
        event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    where = f"{parsed.drivername}://{parsed.host or ''}:{parsed.port or ''}/{parsed.database or ''}"
    watch_pool(engine.sync_engine.pool, pool_name or where)
    return engine


_READS_ONLY = "itsm_reads_only"
"""The execution option `reading()` sets: the connection's transactions only read."""


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for reads only, returned to the pool on leaving the block.

    On SQLite its transactions begin DEFERRED: they read a snapshot without taking the write lock,
    so they neither wait for a writer nor hold one up (WAL). Writes go through a unit of work (or
    `engine.begin()`), whose transactions take the lock at BEGIN. On PostgreSQL nothing changes.
    """
    async with engine.connect() as conn:
        await conn.execution_options(**{_READS_ONLY: True})
        yield conn


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE: take the write lock at BEGIN, waiting up to busy_timeout for it. A deferred
    # BEGIN that reads and then writes fails at once with "database is locked" when another
    # connection wrote meanwhile (SQLite cannot upgrade a stale read snapshot), which a service
    # under concurrent requests, its relay and its consumer hit within seconds. Transactions
    # that write then run one at a time per database file: fine for the one-machine run SQLite
    # is for. A `reading()` connection never writes, so it begins DEFERRED: an IMMEDIATE read
    # held the lock for the whole request and stalled every writer, and a writer on another
    # connection of the same request waited on it until the busy timeout.
    reads_only = conn.get_execution_options().get(_READS_ONLY, False)
    conn.exec_driver_sql("BEGIN" if reads_only else "BEGIN IMMEDIATE")


def _refuse_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pre-ping for asyncpg, for free: an asyncpg connection keeps reading its socket while it
    sits in the pool, so a connection the server closed (restart, failover, terminated backend,
    idle timeout) reports `is_closed()` as soon as the event loop has seen the close. As when a
    pre-ping fails, the pool then drops every connection made before now and checks out a new one.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise exc.InvalidatePoolError("the server closed this pooled connection")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the relay read while the API writes; busy_timeout waits instead of failing.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def page(
    conn: AsyncConnection, query: Select[Any], *order_by: Any, limit: int, offset: int, count_limit: int | None = None
) -> tuple[list[Any], int]:
    """One page of `query` in a stable order, and how many rows the whole query has.

    With `count_limit`, rows are counted only up to one past it: a total above `count_limit`
    means "more than that" (counting a large match exactly costs far more than the page)."""
    counted = query if count_limit is None else query.limit(count_limit + 1)
    total = await conn.scalar(select(func.count()).select_from(counted.subquery()))
    rows = await conn.execute(query.order_by(*order_by).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def row_by_id(
    conn: AsyncConnection, table: Table, row_id: Any, *, for_update: bool = False, skip_locked: bool = False
) -> Any:
    """The row of `table` whose id is `row_id`, or None. With `for_update` it is locked for the
    transaction on PostgreSQL (SQLite writes one transaction at a time and takes no row locks);
    with `skip_locked` too, a row another transaction holds reads as None."""
    query = select(table).where(table.c.id == row_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=skip_locked)
    return (await conn.execute(query)).first()


def where_given(query: Select[Any], table: Table, **values: Any) -> Select[Any]:
    """`query` narrowed to the rows whose column (named by the keyword) equals each value given;
    a None value is no filter: the list filters a caller left out."""
    for name, value in values.items():
        if value is not None:
            query = query.where(table.c[name] == value)
    return query


def number_or_text(table: Table, text: str, *columns: str) -> ColumnElement[bool]:
    """The search-box match of a numbered record: `text` within any of `columns` (any case; `%`
    and `_` typed stand for themselves), or its number (`inc0000042` finds INC0000042)."""
    return or_(*(table.c[name].icontains(text, autoescape=True) for name in columns), table.c.number == text.upper())


def upsert_statement(
    table: Table,
    columns: Iterable[str],
    *,
    key: Sequence[str],
    newer: str | None = None,
    updating: Sequence[str] | None = None,
) -> TextClause:
    """`INSERT ... ON CONFLICT (key) DO UPDATE` of `columns` (bound by name, typed as the table's
    columns), as SQL both PostgreSQL and SQLite (3.35+) take. A row already there gets the incoming
    values of `updating` (default: every column but the key); with `newer`, a row moves forward only
    when the incoming value of that column is greater. Built once per table and arguments (and so
    compiled once per engine): the dialects' `insert().on_conflict_do_update()` has no cache key,
    SQLAlchemy compiles it again on every execution."""
    names = tuple(columns)
    return _upsert(
        table,
        names,
        tuple(key),
        newer,
        tuple(c for c in names if c not in key) if updating is None else tuple(updating),
    )


@functools.cache
def _upsert(
    table: Table, columns: tuple[str, ...], key: tuple[str, ...], newer: str | None, updating: tuple[str, ...]
) -> TextClause:
    fresh = ", ".join(f"{c} = excluded.{c}" for c in updating)
    sql = f"{_insert_sql(table, columns)} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {fresh}"
    if newer is not None:
        sql += f" WHERE {table.name}.{newer} < excluded.{newer}"
    return _bound(table, columns, sql)


def insert_ignoring_duplicates(
    table: Table, columns: Iterable[str], *, key: Sequence[str] = (), returning: str | None = None
) -> TextClause:
    """`INSERT ... ON CONFLICT [(key)] DO NOTHING [RETURNING returning]` of `columns` (bound by
    name, typed as the table's columns): for writes that two consumers or replicas may race to
    make, where the second is a no-op (with `returning`, the insert that happened returns a row;
    `rowcount` tells as well). Built once per table and arguments, so SQLAlchemy caches its compiled
    form (see `upsert_statement`); executes with one dict of values, or a list (executemany)."""
    return _insert_ignoring(table, tuple(columns), tuple(key), returning)


@functools.cache
def _insert_ignoring(table: Table, columns: tuple[str, ...], key: tuple[str, ...], returning: str | None) -> TextClause:
    sql = _insert_sql(table, columns) + " ON CONFLICT" + (f" ({', '.join(key)})" if key else "") + " DO NOTHING"
    if returning is not None:
        sql += f" RETURNING {table.c[returning].name}"
    return _bound(table, columns, sql)


def _insert_sql(table: Table, columns: Sequence[str]) -> str:
    names = ", ".join(table.c[c].name for c in columns)  # a KeyError for a column the table has not
    return f"INSERT INTO {table.name} ({names}) VALUES ({', '.join(f':{c}' for c in columns)})"


def _bound(table: Table, columns: Sequence[str], sql: str) -> TextClause:
    return text(sql).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


async def update_versioned(
    conn: AsyncConnection,
    table: Table,
    row_id: Any,
    expected_version: int,
    values: dict[str, Any],
    *,
    label: str,
    version_column: str = "version",
) -> None:
    """Optimistic concurrency: write `values` only if the row is still at `expected_version`
    (in `version_column`: a table whose `version` is a business field keeps it elsewhere).

    Raises PreconditionFailed (412) naming `label` when someone else wrote it since it was read.
    """
    result = await conn.execute(
        update(table).where(table.c.id == row_id, table.c[version_column] == expected_version).values(values)
    )
    if result.rowcount != 1:
        raise PreconditionFailed(f"{label} was changed by someone else meanwhile; read it again")


def row_values(table: Table, record: object, *, omit: Iterable[str] = (), **values: Any) -> dict[str, Any]:
    """The row that stores `record` in `table`: every column (but those in `omit`) from the
    record's attribute of the same name, except the ones given in `values` (an enum's value, a
    JSON form, a name that differs)."""
    skipped = set(omit)
    copied = {c.name: getattr(record, c.name) for c in table.columns if c.name not in skipped and c.name not in values}
    return copied | values


def record_of(kind: type[R], row: Any, **values: Any) -> R:
    """The `kind` dataclass a row stores: every field from the row's column of the same name,
    except the ones given in `values` (converted back, computed, or named differently). A field
    the row has no column for, and `values` does not give, keeps its default."""
    columns = row._mapping
    copied = {f.name: columns[f.name] for f in fields(kind) if f.init and f.name in columns and f.name not in values}
    return kind(**copied, **values)


async def lock_until_commit(conn: AsyncConnection, keys: Iterable[str], *, space: int, buckets: int = 0) -> None:
    """Serialise, until the transaction ends, the transactions that lock any of the same keys:
    two consumers or replicas about to claim one thing (an alert, a host name) take turns, and the
    second finds the first's work. PostgreSQL transaction-level advisory locks (two-key form:
    `space`, the caller's own, then the key's CRC-32, or that modulo `buckets` when given), taken
    in one statement in order, so two transactions locking overlapping sets cannot deadlock.
    SQLite has one writer at a time anyway."""
    if conn.dialect.name != "postgresql":
        return
    ids = sorted({_lock_id(key, buckets) for key in keys})
    if ids:
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, k) FROM unnest(CAST(:ids AS int[])) AS k ORDER BY k"),
            {"space": space, "ids": ids},
        )


def _lock_id(key: str, buckets: int) -> int:
    value = zlib.crc32(key.encode())
    if buckets:
        return value % buckets
    return value - (1 << 32) if value >= 1 << 31 else value  # PostgreSQL's int is signed
