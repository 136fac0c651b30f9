"""The known error database: known error records, the match offered to a new incident, and search."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.known_errors import KnownError, KnownErrorStatus
from services.incident.store.tables import (
    known_error,
)
from shared.db import number_or_text, page, record_of, row_values, where_given
from shared.numbering import format_number, next_number

KNOWN_ERROR_PREFIX = "KE"


def _known_error_row(item: KnownError) -> dict[str, Any]:
    return row_values(known_error, item, status=item.status.value)


def _known_error(row: Any) -> KnownError:
    return record_of(KnownError, row, status=KnownErrorStatus(row.status))


async def next_known_error_number(conn: AsyncConnection) -> str:
    return format_number(KNOWN_ERROR_PREFIX, await next_number(conn, "known_error"))


async def add_known_error(conn: AsyncConnection, item: KnownError) -> None:
    await conn.execute(known_error.insert(), _known_error_row(item))


async def save_known_error(conn: AsyncConnection, item: KnownError) -> None:
    values = _known_error_row(item)
    del values["id"], values["number"], values["created_at"]
    await conn.execute(update(known_error).where(known_error.c.id == item.id).values(values))


async def get_known_error(conn: AsyncConnection, known_error_id: UUID) -> KnownError | None:
    row = (await conn.execute(select(known_error).where(known_error.c.id == known_error_id))).first()
    return _known_error(row) if row else None


async def known_error_of_problem(conn: AsyncConnection, problem_id: UUID) -> KnownError | None:
    row = (await conn.execute(select(known_error).where(known_error.c.problem_id == problem_id))).first()
    return _known_error(row) if row else None


async def matching_known_error(
    conn: AsyncConnection, *, ci_id: UUID | None, service_id: UUID | None, category: str | None
) -> KnownError | None:
    """The active known error for an incident: on its CI first, else on its service and category;
    the most recent when several apply."""
    conditions: list[Any] = []
    if ci_id is not None:
        conditions.append(known_error.c.ci_id == ci_id)
    if service_id is not None and category:
        conditions.append(
            and_(known_error.c.service_id == service_id, func.lower(known_error.c.category) == category.lower())
        )
    for where in conditions:
        query = (
            select(known_error)
            .where(where, known_error.c.status == KnownErrorStatus.ACTIVE.value)
            .order_by(known_error.c.created_at.desc(), known_error.c.id)
            .limit(1)
        )
        row = (await conn.execute(query)).first()
        if row is not None:
            return _known_error(row)
    return None


async def count_known_error_use(conn: AsyncConnection, known_error_id: UUID) -> None:
    await conn.execute(
        update(known_error).where(known_error.c.id == known_error_id).values(usage_count=known_error.c.usage_count + 1)
    )


async def search_known_errors(
    conn: AsyncConnection,
    *,
    text_query: str | None,
    ci_id: UUID | None,
    service_id: UUID | None,
    category: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[KnownError], int]:
    query = where_given(select(known_error), known_error, ci_id=ci_id, service_id=service_id, status=status)
    if text_query:
        query = query.where(number_or_text(known_error, text_query, "title", "symptoms", "root_cause", "workaround"))
    if category:
        query = query.where(func.lower(known_error.c.category) == category.lower())
    rows, total = await page(conn, query, known_error.c.created_at.desc(), known_error.c.id, limit=limit, offset=offset)
    return [_known_error(r) for r in rows], total
