"""Records control (ISO/IEC 20000-1 4.3.3), the edges: the tables of retention policies, legal holds
and the disposal log (declared on a service's metadata by `retention_tables`, created by its
migration through `create_retention_tables`), their reads and writes, and the disposal job.

What a service keeps under control it declares once per record type (`Disposable`): the record's
evidence source (`shared.evidence.EvidenceSource`: its table, the rows that belong to it, the
outbox) and the timestamps a policy may count from. **Disposing** of a record deletes its row, the
rows of its parts (field history, notes, clocks...) and the events about it the relay has
published from the outbox, and writes one disposal log entry (type, id, number, when, the policy
version and period, the job pass) in the same transaction, with a `record.disposed.v1` event.
The log entry and the event are all that is left; they hold no field of the record but its number.

Safe with several replicas and against a hold placed meanwhile: a pass reads the type's policy
`FOR SHARE`, then claims due rows `FOR UPDATE SKIP LOCKED` (another replica's rows are skipped),
then reads the holds; placing a hold or changing a policy locks the policy row `FOR UPDATE`, so it
waits for a pass in progress, and a pass that starts after it sees the hold. The log's unique
(record_type, record_id) is the last guard. SQLite writes one transaction at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID, uuid4

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, UniqueConstraint, Uuid, delete, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import BigIntKey, UtcDateTime, make_metadata, page, row_values, where_given
from shared.events.records import LegalHoldPlaced, LegalHoldReleased, RecordDisposed
from shared.evidence import EvidenceSource, Part
from shared.periodic import JobContext, PeriodicJob
from shared.retention import Decision, LegalHold, RetentionPolicy, decide
from shared.uow import UnitOfWork


class RetentionTables(NamedTuple):
    policy: Table
    hold: Table
    log: Table


def retention_tables(metadata: MetaData) -> RetentionTables:
    """`retention_policy`, `legal_hold` and `disposal_log` on a service's metadata."""
    policy = Table(
        "retention_policy",
        metadata,
        Column("record_type", String(50), primary_key=True),
        Column("retain_days", Integer, nullable=False),
        Column("counted_from", String(50), nullable=False),
        Column("version", Integer, nullable=False),
        Column("updated_by", String(200), nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )
    hold = Table(
        "legal_hold",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("record_type", String(50), nullable=False, index=True),
        Column("record_id", Uuid, index=True),
        Column("reason", Text, nullable=False),
        Column("placed_by", String(200), nullable=False),
        Column("placed_at", UtcDateTime, nullable=False),
        Column("until", UtcDateTime),
        Column("released_by", String(200)),
        Column("released_at", UtcDateTime),
        Column("release_reason", Text),
    )
    log = Table(
        "disposal_log",
        metadata,
        Column("id", BigIntKey, primary_key=True, autoincrement=True),
        Column("record_type", String(50), nullable=False),
        Column("record_id", Uuid, nullable=False),
        Column("number", String(50)),
        Column("disposed_at", UtcDateTime, nullable=False, index=True),
        Column("action", String(20), nullable=False),
        Column("policy_version", Integer, nullable=False),
        Column("retain_days", Integer, nullable=False),
        Column("counted_from", String(50), nullable=False),
        Column("counted_from_at", UtcDateTime, nullable=False),
        Column("job_run", Uuid, nullable=False, index=True),
        UniqueConstraint("record_type", "record_id"),
    )
    return RetentionTables(policy, hold, log)


def create_retention_tables() -> None:
    """In a service's migration: the three tables, exactly as `retention_tables` declares them."""
    from alembic import op

    for table in retention_tables(make_metadata()):
        table.create(op.get_bind())


def drop_retention_tables() -> None:
    from alembic import op

    for table in reversed(retention_tables(make_metadata())):
        table.drop(op.get_bind())


@dataclass(frozen=True)
class Disposable:
    """One record type under retention: its evidence source (what makes up the record) and the
    timestamp columns a policy may count from."""

    source: EvidenceSource
    timestamps: tuple[str, ...]
    also: tuple[Part, ...] = ()
    """Rows about the record outside its evidence (a read model of it), deleted with it."""
    final: tuple[str, ...] = ()
    """The statuses (its `status` column) a record must be in to be disposed of, whatever its
    timestamp says; empty: its timestamp being set is enough."""

    @property
    def record_type(self) -> str:
        return self.source.record_type


# ---------------------------------------------------------------------------- reads and writes


def _policy(row: Any) -> RetentionPolicy:
    return RetentionPolicy(**row._mapping)


def _hold(row: Any) -> LegalHold:
    return LegalHold(**row._mapping)


async def get_policy(
    conn: AsyncConnection, tables: RetentionTables, record_type: str, *, lock: str | None = None
) -> RetentionPolicy | None:
    """The type's policy; `lock` "share" or "update" locks its row (PostgreSQL) for the transaction."""
    query = select(tables.policy).where(tables.policy.c.record_type == record_type)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(read=lock == "share")
    row = (await conn.execute(query)).first()
    return _policy(row) if row else None


async def list_policies(conn: AsyncConnection, tables: RetentionTables) -> list[RetentionPolicy]:
    rows = await conn.execute(select(tables.policy).order_by(tables.policy.c.record_type))
    return [_policy(r) for r in rows]


async def save_policy(conn: AsyncConnection, tables: RetentionTables, policy: RetentionPolicy) -> None:
    values = row_values(tables.policy, policy)
    if policy.version == 1:
        await conn.execute(insert(tables.policy).values(values))
    else:
        table = tables.policy
        await conn.execute(sql_update(table).where(table.c.record_type == policy.record_type).values(values))


async def get_hold(conn: AsyncConnection, tables: RetentionTables, hold_id: UUID) -> LegalHold | None:
    row = (await conn.execute(select(tables.hold).where(tables.hold.c.id == hold_id))).first()
    return _hold(row) if row else None


async def list_holds(
    conn: AsyncConnection,
    tables: RetentionTables,
    *,
    record_type: str | None = None,
    record_id: UUID | None = None,
    active_at: datetime | None = None,
    limit: int,
    offset: int,
) -> tuple[list[LegalHold], int]:
    table = tables.hold
    query = where_given(select(table), table, record_type=record_type, record_id=record_id)
    if active_at is not None:
        query = query.where(table.c.released_at.is_(None), (table.c.until.is_(None)) | (table.c.until > active_at))
    rows, total = await page(conn, query, table.c.placed_at.desc(), table.c.id, limit=limit, offset=offset)
    return [_hold(r) for r in rows], total


async def save_hold(conn: AsyncConnection, tables: RetentionTables, hold: LegalHold, *, new: bool) -> None:
    values = row_values(tables.hold, hold)
    if new:
        await conn.execute(insert(tables.hold).values(values))
    else:
        await conn.execute(sql_update(tables.hold).where(tables.hold.c.id == hold.id).values(values))


async def list_disposals(
    conn: AsyncConnection, tables: RetentionTables, *, record_type: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    table = tables.log
    query = where_given(select(table), table, record_type=record_type)
    rows, total = await page(conn, query, table.c.id.desc(), limit=limit, offset=offset)
    return [dict(r._mapping) for r in rows], total


async def record_exists(conn: AsyncConnection, disposable: Disposable, record_id: UUID) -> bool:
    table = disposable.source.table
    return (await conn.execute(select(table.c.id).where(table.c.id == record_id))).first() is not None


def hold_placed(hold: LegalHold) -> LegalHoldPlaced:
    return LegalHoldPlaced.from_record(hold, hold_id=hold.id)


def hold_released(hold: LegalHold) -> LegalHoldReleased:
    assert hold.released_by is not None and hold.released_at is not None
    return LegalHoldReleased.from_record(
        hold,
        hold_id=hold.id,
        released_by=hold.released_by,
        released_at=hold.released_at,
        reason=hold.release_reason or "",
    )


# ---------------------------------------------------------------------------- the disposal job

DISPOSED = "deleted"
"""The disposal log's `action`: the record's row, parts and published events are deleted."""


async def _claim_due(
    conn: AsyncConnection,
    disposable: Disposable,
    policy: RetentionPolicy,
    held: set[UUID],
    now: datetime,
    batch: int,
) -> list[Any]:
    """Up to `batch` rows past the period and not among the `held` ids, oldest first, locked."""
    table = disposable.source.table
    counted = table.c[policy.counted_from]
    number = table.c.get("number")
    columns = [table.c.id, counted.label("counted_from_at"), *([number] if number is not None else [])]
    query = select(*columns).where(counted < policy.cutoff(now))
    if disposable.final:
        query = query.where(table.c.status.in_(disposable.final))
    if held:
        query = query.where(table.c.id.not_in(held))
    query = query.order_by(counted, table.c.id).limit(batch)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=table)
    return list(await conn.execute(query))


async def _active_holds(conn: AsyncConnection, tables: RetentionTables, record_type: str) -> list[LegalHold]:
    table = tables.hold
    query = select(table).where(table.c.record_type == record_type, table.c.released_at.is_(None))
    return [_hold(r) for r in await conn.execute(query)]


async def _delete_record(conn: AsyncConnection, disposable: Disposable, record_id: UUID) -> None:
    source = disposable.source
    for part in (*source.parts, *disposable.also):
        await conn.execute(delete(part.table).where(part.table.c[part.key_column] == record_id))
    outbox = source.outbox
    await conn.execute(delete(outbox).where(outbox.c.subject == str(record_id), outbox.c.published_at.is_not(None)))
    await conn.execute(delete(source.table).where(source.table.c.id == record_id))


async def _dispose_batch(
    uow: UnitOfWork,
    tables: RetentionTables,
    disposable: Disposable,
    now: datetime,
    job_run: UUID,
    batch: int,
) -> tuple[int, int]:
    """One transaction: (rows claimed, records disposed of)."""
    async with uow:
        conn = uow.connection
        policy = await get_policy(conn, tables, disposable.record_type, lock="share")
        if policy is None or policy.counted_from not in disposable.timestamps:
            return 0, 0
        # The policy's row is locked (shared) first: a hold placed meanwhile waits for this
        # transaction, and one placed before it is read here.
        holds = [h for h in await _active_holds(conn, tables, disposable.record_type) if h.active(now)]
        if any(h.record_id is None for h in holds):
            return 0, 0  # the whole type is held
        claimed = await _claim_due(conn, disposable, policy, {h.record_id for h in holds if h.record_id}, now, batch)
        disposed = 0
        for row in claimed:
            decision = decide(disposable.record_type, row.id, row.counted_from_at, policy, holds, now)
            if decision is not Decision.DISPOSE:
                continue
            await _delete_record(conn, disposable, row.id)
            entry = {
                "record_type": disposable.record_type,
                "record_id": row.id,
                "number": getattr(row, "number", None),
                "disposed_at": now,
                "action": DISPOSED,
                "policy_version": policy.version,
                "retain_days": policy.retain_days,
                "counted_from": policy.counted_from,
                "counted_from_at": row.counted_from_at,
                "job_run": job_run,
            }
            await conn.execute(insert(tables.log).values(entry))
            uow.emit(RecordDisposed.model_validate(entry), subject=str(row.id))
            disposed += 1
        await uow.commit()
        return len(claimed), disposed


async def dispose_due(
    unit_of_work: Callable[[], UnitOfWork],
    tables: RetentionTables,
    disposables: Sequence[Disposable],
    now: datetime,
    *,
    batch: int = 100,
    job_run: UUID | None = None,
) -> int:
    """One pass of the disposal job: every record past its type's retention period and under no
    legal hold is disposed of and logged, batch by batch. Returns how many were disposed of.

    Held records are left out of the claim; a pass stops at the first batch shorter than `batch`
    (or one in which nothing was disposed of)."""
    run = job_run or uuid4()
    total = 0
    for disposable in disposables:
        while True:
            claimed, disposed = await _dispose_batch(unit_of_work(), tables, disposable, now, run, batch)
            total += disposed
            if claimed < batch or disposed == 0:
                break
    return total


DISPOSAL_JOB = "disposal"


def disposal_job(tables: RetentionTables, disposables: Sequence[Disposable]) -> PeriodicJob:
    """The disposal job of a service's `worker.PERIODIC`: every `disposal_interval_s` of its
    settings, `disposal_batch` records per transaction."""

    async def dispose(ctx: JobContext) -> None:
        await dispose_due(ctx.unit_of_work, tables, disposables, ctx.now, batch=ctx.settings.disposal_batch)

    return PeriodicJob(DISPOSAL_JOB, dispose, lambda s: s.disposal_interval_s)
