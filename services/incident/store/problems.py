"""Problem persistence (ISO/IEC 20000-1 8.2): the problem repository, its field history, its
linked incidents and the problem list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.analysis import Cluster
from services.incident.domain.priority import Impact, Urgency
from services.incident.domain.problems import OPEN_STATUSES, Problem, ProblemChanged, ProblemOrigin, ProblemStatus
from services.incident.store.tables import (
    problem,
    problem_history,
    problem_incident,
)
from shared.db import number_or_text, page, record_of, row_by_id, row_values, update_versioned, where_given
from shared.history import history_rows
from shared.numbering import format_number, next_number

PROBLEM_PREFIX = "PRB"
_TERMINAL = [s.value for s in ProblemStatus if s not in OPEN_STATUSES]


def _problem_row(item: Problem) -> dict[str, Any]:
    return row_values(
        problem,
        item,
        status=item.status.value,
        origin=item.origin.value,
        impact=int(item.impact),
        urgency=int(item.urgency),
        open_recurrence_key=item.recurrence_key if item.is_open else None,
    )


def _problem(row: Any, incident_ids: list[UUID]) -> Problem:
    return record_of(
        Problem,
        row,
        status=ProblemStatus(row.status),
        origin=ProblemOrigin(row.origin),
        impact=Impact(row.impact),
        urgency=Urgency(row.urgency),
        incident_ids=incident_ids,
    )


async def _incident_ids(conn: AsyncConnection, problem_ids: Sequence[UUID]) -> dict[UUID, list[UUID]]:
    found: dict[UUID, list[UUID]] = {p: [] for p in problem_ids}
    if not problem_ids:
        return found
    query = (
        select(problem_incident.c.problem_id, problem_incident.c.incident_id)
        .where(problem_incident.c.problem_id.in_(problem_ids))
        .order_by(problem_incident.c.linked_at, problem_incident.c.incident_number)
    )
    for row in await conn.execute(query):
        found[row.problem_id].append(row.incident_id)
    return found


class ProblemRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, item: Problem) -> None:
        item.number = format_number(PROBLEM_PREFIX, await next_number(self._conn, "problem"))
        await self._conn.execute(problem.insert(), _problem_row(item))

    async def get(self, problem_id: UUID, *, for_update: bool = False) -> Problem | None:
        row = await row_by_id(self._conn, problem, problem_id, for_update=for_update)
        if row is None:
            return None
        return _problem(row, (await _incident_ids(self._conn, [row.id]))[row.id])

    async def open_for(self, cluster: Cluster) -> Problem | None:
        """The open problem on this cluster's CI (or service and category), oldest first."""
        if cluster.ci_id is not None:
            where = problem.c.ci_id == cluster.ci_id
        else:
            where = and_(
                problem.c.service_id == cluster.service_id,
                func.lower(problem.c.category) == (cluster.category or "").lower(),
            )
        query = (
            select(problem.c.id)
            .where(where, problem.c.status.not_in(_TERMINAL))
            .order_by(problem.c.opened_at, problem.c.id)
            .limit(1)
        )
        problem_id = await self._conn.scalar(query)
        return await self.get(problem_id, for_update=True) if problem_id else None

    async def save(self, item: Problem, expected_version: int, links: Iterable[dict[str, Any]] = ()) -> None:
        """Write a changed problem if nobody did since it was read, its field history and new links."""
        values = _problem_row(item)
        del values["id"], values["number"], values["opened_at"], values["opened_by"]
        await update_versioned(self._conn, problem, item.id, expected_version, values, label=item.number)
        changed = [e for e in item.pending_events if isinstance(e, ProblemChanged)]
        rows = history_rows("problem_id", item.id, item.version, item.updated_at, changed)
        if rows:
            await self._conn.execute(problem_history.insert(), rows)
        await self.add_links(links)

    async def add_links(self, links: Iterable[dict[str, Any]]) -> None:
        rows = list(links)
        if rows:
            await self._conn.execute(problem_incident.insert(), rows)


async def get_problem(conn: AsyncConnection, problem_id: UUID) -> Problem | None:
    return await ProblemRepository(conn).get(problem_id)


async def list_problems(
    conn: AsyncConnection,
    *,
    status: str | None,
    ci_id: UUID | None,
    service_id: UUID | None,
    category: str | None,
    origin: str | None,
    text_query: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Problem], int]:
    query = where_given(select(problem), problem, status=status, ci_id=ci_id, service_id=service_id, origin=origin)
    if category:
        query = query.where(func.lower(problem.c.category) == category.lower())
    if text_query:
        query = query.where(number_or_text(problem, text_query, "title", "description", "root_cause"))
    rows, total = await page(conn, query, problem.c.opened_at.desc(), problem.c.id, limit=limit, offset=offset)
    ids = await _incident_ids(conn, [r.id for r in rows])
    return [_problem(r, ids[r.id]) for r in rows], total


async def problem_history_of(conn: AsyncConnection, problem_id: UUID) -> list[Any]:
    query = select(problem_history).where(problem_history.c.problem_id == problem_id)
    return list(await conn.execute(query.order_by(problem_history.c.id)))


async def links_of(conn: AsyncConnection, problem_id: UUID) -> list[Any]:
    query = select(problem_incident).where(problem_incident.c.problem_id == problem_id)
    return list(await conn.execute(query.order_by(problem_incident.c.linked_at, problem_incident.c.incident_number)))
