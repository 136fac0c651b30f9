"""Persistence of problem management (8.2) and alert intake: tables on the incident service's
metadata, the problem and known error repositories, and the queries problem analysis runs."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain import Impact, Urgency
from services.incident.domain_problem import (
    OPEN_STATUSES,
    Cluster,
    IncidentFact,
    KnownError,
    KnownErrorStatus,
    Problem,
    ProblemChanged,
    ProblemOrigin,
    ProblemStatus,
)
from services.incident.store import incident, incident_history, metadata
from shared.history import history_rows
from shared.db import BigIntKey, UtcDateTime, insert_ignoring_duplicates, page, update_versioned
from shared.numbering import format_number, next_number

PROBLEM_PREFIX = "PRB"
KNOWN_ERROR_PREFIX = "KE"
SEQUENCES = ("problem", "known_error")

problem = Table(
    "problem",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("status", String(30), nullable=False, index=True),
    Column("origin", String(20), nullable=False),
    Column("impact", Integer, nullable=False),
    Column("urgency", Integer, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("ci_id", Uuid, index=True),
    Column("service_id", Uuid, index=True),
    Column("category", String(100)),
    Column("owner", String(200)),
    Column("root_cause", Text, nullable=False, server_default=""),
    Column("workaround", Text, nullable=False, server_default=""),
    Column("resolution", Text, nullable=False, server_default=""),
    Column("change_id", Uuid),
    Column("change_number", String(20)),
    Column("known_error_id", Uuid),
    # The cluster problem analysis opened it for ("ci:<id>" or "service:<id>:<category>").
    Column("recurrence_key", String(200)),
    # Set while the problem is open: one open problem per cluster, also with several consumers
    # racing (the unique index is the backstop of the advisory lock taken per cluster).
    Column("open_recurrence_key", String(200), unique=True),
    Column("opened_by", String(200), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("version", Integer, nullable=False),
)

problem_history = Table(
    "problem_history",
    metadata,
    Column("id", BigIntKey, primary_key=True, autoincrement=True),
    Column("problem_id", Uuid, nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(30), nullable=False),
    Column("field", String(50), nullable=False),
    Column("old", JSON),
    Column("new", JSON),
    Column("reason", Text, nullable=False, server_default=""),
)

problem_incident = Table(
    "problem_incident",
    metadata,
    Column("problem_id", Uuid, primary_key=True),
    Column("incident_id", Uuid, primary_key=True, index=True),
    Column("incident_number", String(20), nullable=False),
    Column("reason", String(20), nullable=False),  # recurrence | known_error | manual
    Column("linked_at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
)

known_error = Table(
    "known_error",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("problem_id", Uuid, nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("symptoms", Text, nullable=False, server_default=""),
    Column("root_cause", Text, nullable=False),
    Column("workaround", Text, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("ci_id", Uuid, index=True),
    Column("service_id", Uuid, index=True),
    Column("category", String(100)),
    Column("usage_count", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# What problem analysis knows of each incident, from incident.created.v1 (never from the
# incident table: the analysis is fed by events, like any other consumer).
incident_fact = Table(
    "incident_fact",
    metadata,
    Column("incident_id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False),
    Column("ci_id", Uuid, index=True),
    Column("service_id", Uuid),
    Column("category", String(100)),
    Column("opened_at", UtcDateTime, nullable=False, index=True),
    Index("ix_incident_fact_service_category", "service_id", "category"),
)

# Changes on CIs, from change.implementing|implemented|failed.v1: one row per change and CI.
change_on_ci = Table(
    "change_on_ci",
    metadata,
    Column("change_id", Uuid, primary_key=True),
    Column("ci_id", Uuid, primary_key=True, index=True),
    Column("change_number", String(20), nullable=False),
    Column("status", String(20), nullable=False),  # implementing | implemented | failed
    Column("planned_start", UtcDateTime),
    Column("planned_end", UtcDateTime),
    Column("implemented_at", UtcDateTime),  # when it was implemented or failed
    Column("updated_at", UtcDateTime, nullable=False),
)

incident_change_link = Table(
    "incident_change_link",
    metadata,
    Column("incident_id", Uuid, primary_key=True),
    Column("change_id", Uuid, primary_key=True, index=True),
    Column("change_number", String(20), nullable=False),
    Column("ci_id", Uuid),
    Column("reason", String(20), nullable=False),  # probable_cause | manual
    Column("change_implemented_at", UtcDateTime),
    Column("linked_at", UtcDateTime, nullable=False),
)

# One row per alert (fingerprint) and the incident it opened; repeated firings count here.
monitoring_alert = Table(
    "monitoring_alert",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("fingerprint", String(100), nullable=False, index=True),
    Column("incident_id", Uuid, nullable=False, index=True),
    Column("alertname", String(200), nullable=False),
    Column("status", String(20), nullable=False),  # firing | resolved
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime),
    Column("generator_url", Text, nullable=False, server_default=""),
    Column("occurrences", Integer, nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("change_id", Uuid),
    Column("change_number", String(20)),
    Column("receiver", String(200), nullable=False, server_default=""),
)

CHANGE_ORDER = {"implementing": 0, "implemented": 1, "failed": 1}
_TERMINAL = [s.value for s in ProblemStatus if s not in OPEN_STATUSES]


async def lock_key(conn: AsyncConnection, key: str) -> None:
    """Serialise work on one cluster or alert across consumers (PostgreSQL: a transaction-level
    advisory lock; SQLite serialises writers anyway)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_id(key)})


def _lock_id(key: str) -> int:
    value = zlib.crc32(key.encode())
    return value - (1 << 32) if value >= 1 << 31 else value


# ---------------------------------------------------------------------------- problems


def _problem_row(item: Problem) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "title": item.title,
        "description": item.description,
        "status": item.status.value,
        "origin": item.origin.value,
        "impact": int(item.impact),
        "urgency": int(item.urgency),
        "priority": item.priority,
        "ci_id": item.ci_id,
        "service_id": item.service_id,
        "category": item.category,
        "owner": item.owner,
        "root_cause": item.root_cause,
        "workaround": item.workaround,
        "resolution": item.resolution,
        "change_id": item.change_id,
        "change_number": item.change_number,
        "known_error_id": item.known_error_id,
        "recurrence_key": item.recurrence_key,
        "open_recurrence_key": item.recurrence_key if item.is_open else None,
        "opened_by": item.opened_by,
        "opened_at": item.opened_at,
        "updated_at": item.updated_at,
        "resolved_at": item.resolved_at,
        "closed_at": item.closed_at,
        "version": item.version,
    }


def _problem(row: Any, incident_ids: list[UUID]) -> Problem:
    return Problem(
        id=row.id,
        number=row.number,
        title=row.title,
        description=row.description,
        status=ProblemStatus(row.status),
        origin=ProblemOrigin(row.origin),
        impact=Impact(row.impact),
        urgency=Urgency(row.urgency),
        priority=row.priority,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        opened_by=row.opened_by,
        version=row.version,
        ci_id=row.ci_id,
        service_id=row.service_id,
        category=row.category,
        owner=row.owner,
        root_cause=row.root_cause,
        workaround=row.workaround,
        resolution=row.resolution,
        change_id=row.change_id,
        change_number=row.change_number,
        known_error_id=row.known_error_id,
        recurrence_key=row.recurrence_key,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
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
        query = select(problem).where(problem.c.id == problem_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).first()
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
    query = select(problem)
    if status:
        query = query.where(problem.c.status == status)
    if ci_id:
        query = query.where(problem.c.ci_id == ci_id)
    if service_id:
        query = query.where(problem.c.service_id == service_id)
    if category:
        query = query.where(func.lower(problem.c.category) == category.lower())
    if origin:
        query = query.where(problem.c.origin == origin)
    if text_query:
        query = query.where(
            or_(
                problem.c.title.icontains(text_query, autoescape=True),
                problem.c.description.icontains(text_query, autoescape=True),
                problem.c.root_cause.icontains(text_query, autoescape=True),
                problem.c.number == text_query.upper(),
            )
        )
    rows, total = await page(conn, query, problem.c.opened_at.desc(), problem.c.id, limit=limit, offset=offset)
    ids = await _incident_ids(conn, [r.id for r in rows])
    return [_problem(r, ids[r.id]) for r in rows], total


async def problem_history_of(conn: AsyncConnection, problem_id: UUID) -> list[Any]:
    query = select(problem_history).where(problem_history.c.problem_id == problem_id)
    return list(await conn.execute(query.order_by(problem_history.c.id)))


async def links_of(conn: AsyncConnection, problem_id: UUID) -> list[Any]:
    query = select(problem_incident).where(problem_incident.c.problem_id == problem_id)
    return list(await conn.execute(query.order_by(problem_incident.c.linked_at, problem_incident.c.incident_number)))


# ---------------------------------------------------------------------------- known errors


def _known_error_row(item: KnownError) -> dict[str, Any]:
    return {
        "id": item.id,
        "number": item.number,
        "problem_id": item.problem_id,
        "title": item.title,
        "symptoms": item.symptoms,
        "root_cause": item.root_cause,
        "workaround": item.workaround,
        "status": item.status.value,
        "ci_id": item.ci_id,
        "service_id": item.service_id,
        "category": item.category,
        "usage_count": item.usage_count,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def _known_error(row: Any) -> KnownError:
    return KnownError(
        id=row.id,
        number=row.number,
        problem_id=row.problem_id,
        title=row.title,
        symptoms=row.symptoms,
        root_cause=row.root_cause,
        workaround=row.workaround,
        status=KnownErrorStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        ci_id=row.ci_id,
        service_id=row.service_id,
        category=row.category,
        usage_count=row.usage_count,
    )


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
    query = select(known_error)
    if text_query:
        query = query.where(
            or_(
                known_error.c.title.icontains(text_query, autoescape=True),
                known_error.c.symptoms.icontains(text_query, autoescape=True),
                known_error.c.root_cause.icontains(text_query, autoescape=True),
                known_error.c.workaround.icontains(text_query, autoescape=True),
                known_error.c.number == text_query.upper(),
            )
        )
    if ci_id:
        query = query.where(known_error.c.ci_id == ci_id)
    if service_id:
        query = query.where(known_error.c.service_id == service_id)
    if category:
        query = query.where(func.lower(known_error.c.category) == category.lower())
    if status:
        query = query.where(known_error.c.status == status)
    rows, total = await page(conn, query, known_error.c.created_at.desc(), known_error.c.id, limit=limit, offset=offset)
    return [_known_error(r) for r in rows], total


# ---------------------------------------------------------------------------- analysis facts


async def record_incident_fact(conn: AsyncConnection, fact: IncidentFact) -> None:
    exists_already = await conn.scalar(select(literal(1)).where(incident_fact.c.incident_id == fact.incident_id))
    if exists_already is None:
        await conn.execute(
            incident_fact.insert(),
            {
                "incident_id": fact.incident_id,
                "number": fact.number,
                "ci_id": fact.ci_id,
                "service_id": fact.service_id,
                "category": fact.category,
                "opened_at": fact.opened_at,
            },
        )


def _fact(row: Any) -> IncidentFact:
    return IncidentFact(
        incident_id=row.incident_id,
        number=row.number,
        opened_at=row.opened_at,
        ci_id=row.ci_id,
        service_id=row.service_id,
        category=row.category,
    )


def _in_cluster(cluster: Cluster) -> Any:
    if cluster.ci_id is not None:
        return incident_fact.c.ci_id == cluster.ci_id
    return and_(
        incident_fact.c.service_id == cluster.service_id,
        func.lower(incident_fact.c.category) == (cluster.category or "").lower(),
    )


async def unexplained_facts(conn: AsyncConnection, cluster: Cluster, since: datetime) -> list[IncidentFact]:
    """Incidents of the cluster opened since `since` that no problem explains yet."""
    linked = exists().where(problem_incident.c.incident_id == incident_fact.c.incident_id)
    query = (
        select(incident_fact)
        .where(_in_cluster(cluster), incident_fact.c.opened_at >= since, ~linked)
        .order_by(incident_fact.c.opened_at, incident_fact.c.number)
    )
    return [_fact(r) for r in await conn.execute(query)]


async def facts_on_ci_between(
    conn: AsyncConnection, ci_ids: Sequence[UUID], start: datetime, end: datetime
) -> list[IncidentFact]:
    query = (
        select(incident_fact)
        .where(incident_fact.c.ci_id.in_(ci_ids), incident_fact.c.opened_at >= start, incident_fact.c.opened_at <= end)
        .order_by(incident_fact.c.opened_at)
    )
    return [_fact(r) for r in await conn.execute(query)]


async def trends(conn: AsyncConnection, since: datetime, limit: int) -> dict[str, list[Any]]:
    count = func.count().label("incidents")
    by_ci = (
        select(incident_fact.c.ci_id, count)
        .where(incident_fact.c.opened_at >= since, incident_fact.c.ci_id.is_not(None))
        .group_by(incident_fact.c.ci_id)
        .order_by(count.desc(), incident_fact.c.ci_id)
        .limit(limit)
    )
    by_category = (
        select(incident_fact.c.category, incident_fact.c.service_id, count)
        .where(incident_fact.c.opened_at >= since, incident_fact.c.category.is_not(None))
        .group_by(incident_fact.c.category, incident_fact.c.service_id)
        .order_by(count.desc(), incident_fact.c.category)
        .limit(limit)
    )
    return {"cis": list(await conn.execute(by_ci)), "categories": list(await conn.execute(by_category))}


# ---------------------------------------------------------------------------- changes on CIs


async def record_change_on_ci(
    conn: AsyncConnection,
    *,
    change_id: UUID,
    change_number: str,
    ci_ids: Iterable[UUID],
    status: str,
    planned_start: datetime | None,
    planned_end: datetime | None,
    implemented_at: datetime | None,
    now: datetime,
) -> None:
    """Upsert one row per CI; a row only moves forward (implementing -> implemented or failed),
    so a late `change.implementing.v1` never reopens a window the change already closed."""
    for ci_id in dict.fromkeys(ci_ids):
        key = and_(change_on_ci.c.change_id == change_id, change_on_ci.c.ci_id == ci_id)
        values = {
            "change_number": change_number,
            "status": status,
            "planned_start": planned_start,
            "planned_end": planned_end,
            "implemented_at": implemented_at,
            "updated_at": now,
        }
        # Two events of one change may race here: the second insert is a no-op and moves on.
        inserted = await conn.execute(
            insert_ignoring_duplicates(conn, change_on_ci), {"change_id": change_id, "ci_id": ci_id, **values}
        )
        if inserted.rowcount == 1:
            continue
        row = (await conn.execute(select(change_on_ci).where(key))).one()
        if CHANGE_ORDER[status] < CHANGE_ORDER.get(row.status, 0):
            continue
        values["planned_start"] = planned_start or row.planned_start
        values["planned_end"] = planned_end or row.planned_end
        await conn.execute(update(change_on_ci).where(key).values(values))


async def latest_change_before(conn: AsyncConnection, ci_id: UUID, opened_at: datetime, since: datetime) -> Any | None:
    """The change implemented (or failed) on the CI most recently in [since, opened_at]."""
    query = (
        select(change_on_ci)
        .where(
            change_on_ci.c.ci_id == ci_id,
            change_on_ci.c.status.in_(["implemented", "failed"]),
            change_on_ci.c.implemented_at >= since,
            change_on_ci.c.implemented_at <= opened_at,
        )
        .order_by(change_on_ci.c.implemented_at.desc(), change_on_ci.c.change_id)
        .limit(1)
    )
    return (await conn.execute(query)).first()


async def change_being_implemented(conn: AsyncConnection, ci_id: UUID, at: datetime) -> Any | None:
    """A change in implementation on the CI whose window (planned start to end, when given) holds `at`."""
    query = (
        select(change_on_ci)
        .where(
            change_on_ci.c.ci_id == ci_id,
            change_on_ci.c.status == "implementing",
            or_(change_on_ci.c.planned_start.is_(None), change_on_ci.c.planned_start <= at),
            or_(change_on_ci.c.planned_end.is_(None), change_on_ci.c.planned_end >= at),
        )
        .order_by(change_on_ci.c.updated_at.desc())
        .limit(1)
    )
    return (await conn.execute(query)).first()


async def add_change_link(conn: AsyncConnection, values: dict[str, Any]) -> bool:
    """Record the link; False when the incident already has one to this change."""
    key = and_(
        incident_change_link.c.incident_id == values["incident_id"],
        incident_change_link.c.change_id == values["change_id"],
    )
    if await conn.scalar(select(literal(1)).where(key)) is not None:
        return False
    await conn.execute(incident_change_link.insert(), values)
    return True


async def has_change_link(conn: AsyncConnection, incident_id: UUID) -> bool:
    query = select(literal(1)).where(incident_change_link.c.incident_id == incident_id).limit(1)
    return await conn.scalar(query) is not None


async def change_links_of(conn: AsyncConnection, incident_id: UUID) -> list[Any]:
    query = select(incident_change_link).where(incident_change_link.c.incident_id == incident_id)
    return list(await conn.execute(query.order_by(incident_change_link.c.linked_at)))


# ---------------------------------------------------------------------------- the incident side


async def link_incident_fields(
    conn: AsyncConnection, incident_id: UUID, values: dict[str, Any], *, actor: str, action: str, now: datetime
) -> bool:
    """Set link fields on an incident: a new version and a history entry per field changed, as
    for any change of the record (an agent holding the old ETag gets 412). False: no such incident."""
    row = (
        await conn.execute(
            select(incident).where(incident.c.id == incident_id).with_for_update()
            if conn.dialect.name == "postgresql"
            else select(incident).where(incident.c.id == incident_id)
        )
    ).first()
    if row is None:
        return False
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return True
    version = row.version + 1
    await conn.execute(
        update(incident).where(incident.c.id == incident_id).values(**changed, version=version, updated_at=now)
    )
    await conn.execute(
        incident_history.insert(),
        [
            {
                "incident_id": incident_id,
                "version": version,
                "at": now,
                "actor": actor,
                "action": action,
                "field": name,
                "old": _json(getattr(row, name)),
                "new": _json(value),
                "reason": "",
            }
            for name, value in changed.items()
        ],
    )
    return True


async def add_incident_note(
    conn: AsyncConnection, incident_id: UUID, note: str, *, actor: str, now: datetime, version: int
) -> None:
    """A work note in the incident's history (the record keeps no separate timeline yet)."""
    await conn.execute(
        incident_history.insert(),
        {
            "incident_id": incident_id,
            "version": version,
            "at": now,
            "actor": actor,
            "action": "note",
            "field": "work_note",
            "old": None,
            "new": note,
            "reason": "",
        },
    )


async def history_actors(conn: AsyncConnection, incident_id: UUID) -> list[str]:
    query = select(incident_history.c.actor).where(incident_history.c.incident_id == incident_id).distinct()
    return list((await conn.scalars(query)).all())


def _json(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------------- alerts


async def open_alert(conn: AsyncConnection, fingerprint: str) -> Any | None:
    """The alert row for this fingerprint whose incident is still open (not resolved, closed or cancelled)."""
    query = (
        select(monitoring_alert, incident.c.status.label("incident_status"))
        .join(incident, incident.c.id == monitoring_alert.c.incident_id)
        .where(
            monitoring_alert.c.fingerprint == fingerprint,
            incident.c.status.not_in(["resolved", "closed", "cancelled"]),
        )
        .order_by(monitoring_alert.c.first_seen_at.desc())
        .limit(1)
    )
    return (await conn.execute(query)).first()


async def add_alert(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(monitoring_alert.insert(), values)


async def update_alert(conn: AsyncConnection, alert_id: UUID, values: dict[str, Any]) -> None:
    await conn.execute(update(monitoring_alert).where(monitoring_alert.c.id == alert_id).values(values))


async def bump_alert(conn: AsyncConnection, alert_id: UUID, values: dict[str, Any]) -> None:
    await conn.execute(
        update(monitoring_alert)
        .where(monitoring_alert.c.id == alert_id)
        .values(occurrences=monitoring_alert.c.occurrences + 1, **values)
    )


async def list_alerts(
    conn: AsyncConnection,
    *,
    fingerprint: str | None,
    incident_id: UUID | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    query = select(monitoring_alert)
    if fingerprint:
        query = query.where(monitoring_alert.c.fingerprint == fingerprint)
    if incident_id:
        query = query.where(monitoring_alert.c.incident_id == incident_id)
    if status:
        query = query.where(monitoring_alert.c.status == status)
    return await page(
        conn, query, monitoring_alert.c.last_seen_at.desc(), monitoring_alert.c.id, limit=limit, offset=offset
    )
