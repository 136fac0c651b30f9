"""The improvement register's store (ISO/IEC 20000-1 4.5.5): its entries, the intake policy and the
SLA breach tally."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.improvements import (
    Benefit,
    Improvement,
    ImprovementKind,
    ImprovementSource,
    ImprovementStatus,
    IntakePolicy,
)
from services.reporting.store.tables import improvement, improvement_breach_tally, improvement_policy
from shared.db import (
    insert_ignoring_duplicates,
    number_or_text,
    page,
    record_of,
    row_by_id,
    row_values,
    update_versioned,
    upsert_statement,
    where_given,
)
from shared.numbering import format_number, next_number

NUMBER_PREFIX, NUMBER_SEQUENCE = "IMP", "improvement"
_BENEFIT = {"measure", "figure_before", "figure_after"}


def _row(entry: Improvement) -> dict[str, Any]:
    benefit = entry.benefit
    return row_values(
        improvement,
        entry,
        omit=_BENEFIT,
        kind=entry.kind.value,
        source=entry.source.value,
        status=entry.status.value,
        source_ref=entry.source_ref or None,  # NULLs never collide: entries from no record repeat freely
        measure=benefit.measure,
        figure_before=benefit.before,
        figure_after=benefit.after,
    )


def entry_of(row: Any) -> Improvement:
    values = dict(row._mapping)
    benefit = Benefit(values.pop("measure"), values.pop("figure_before"), values.pop("figure_after"))
    values["source_ref"] = values["source_ref"] or ""
    values["kind"] = ImprovementKind(values["kind"])
    values["source"] = ImprovementSource(values["source"])
    values["status"] = ImprovementStatus(values["status"])
    return Improvement(**values, benefit=benefit)


async def new_number(conn: AsyncConnection) -> str:
    return format_number(NUMBER_PREFIX, await next_number(conn, NUMBER_SEQUENCE))


async def add_entry(conn: AsyncConnection, entry: Improvement) -> bool:
    """Insert it; False when its source record already raised one (a redelivery, a race)."""
    values = _row(entry)
    statement = insert_ignoring_duplicates(improvement, values, key=("source", "source_ref"))
    return (await conn.execute(statement, values)).rowcount == 1


async def has_entry(conn: AsyncConnection, source: ImprovementSource, source_ref: str) -> bool:
    query = select(improvement.c.id).where(improvement.c.source == source.value, improvement.c.source_ref == source_ref)
    return (await conn.scalar(query)) is not None


async def save_entry(conn: AsyncConnection, entry: Improvement, expected_version: int) -> None:
    values = _row(entry)
    del values["id"]
    await update_versioned(conn, improvement, entry.id, expected_version, values, label=f"improvement {entry.number}")


async def get_entry(conn: AsyncConnection, entry_id: UUID, *, for_update: bool = False) -> Improvement | None:
    row = await row_by_id(conn, improvement, entry_id, for_update=for_update)
    return entry_of(row) if row is not None else None


async def page_of_entries(
    conn: AsyncConnection,
    *,
    status: str | None,
    source: str | None,
    owner: str | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Improvement], int]:
    query = where_given(select(improvement), improvement, status=status, source=source, owner=owner)
    if q:
        query = query.where(number_or_text(improvement, q, "title", "source_ref"))
    rows, total = await page(conn, query, improvement.c.raised_at.desc(), improvement.c.id, limit=limit, offset=offset)
    return [entry_of(r) for r in rows], total


async def get_policy(conn: AsyncConnection) -> IntakePolicy:
    row = (await conn.execute(select(improvement_policy).where(improvement_policy.c.id == 1))).first()
    return IntakePolicy() if row is None else record_of(IntakePolicy, row)


async def save_policy(conn: AsyncConnection, policy: IntakePolicy, actor: str, now: datetime) -> None:
    values = row_values(improvement_policy, policy, id=1, updated_by=actor, updated_at=now)
    await conn.execute(upsert_statement(improvement_policy, values, key=("id",)), values)


async def count_breach(conn: AsyncConnection, service: str, month: str) -> int:
    """One more SLA breach of `service` in `month`; the month's count with it."""
    table = improvement_breach_tally
    first = {"service": service, "month": month, "breaches": 0}
    await conn.execute(insert_ignoring_duplicates(table, first, key=("service", "month")), first)
    where = (table.c.service == service) & (table.c.month == month)
    bumped = table.update().where(where).values(breaches=table.c.breaches + 1).returning(table.c.breaches)
    return int(await conn.scalar(bumped) or 0)


async def counts_by_status(conn: AsyncConnection) -> dict[str, int]:
    """The register's entries per status (a management review's input)."""
    query = select(improvement.c.status, func.count()).group_by(improvement.c.status)
    return {status: int(count) for status, count in await conn.execute(query)}
