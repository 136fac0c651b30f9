"""What problem analysis reads and writes: the incidents' facts (from events), changes on CIs, the
links from incidents to the changes that probably caused them, and the per-cluster lock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.analysis import Cluster, IncidentFact
from services.incident.store.tables import (
    change_on_ci,
    ci_read_model,
    incident_change_link,
    incident_fact,
    problem_incident,
)
from shared.db import insert_ignoring_duplicates, lock_until_commit, record_of

CHANGE_ORDER = {"implementing": 0, "implemented": 1, "failed": 1}


INCIDENT_LOCK_SPACE = 0x494E  # "IN": the first key of incident's advisory locks


async def lock_key(conn: AsyncConnection, key: str) -> None:
    """Serialise work on one cluster, alert or person across consumers and replicas, until commit."""
    await lock_until_commit(conn, [key], space=INCIDENT_LOCK_SPACE)


async def ci_names(conn: AsyncConnection, ids: Iterable[UUID | None]) -> dict[UUID, str]:
    """The names of these CIs (services are CIs too) that the CI read model knows."""
    records = await ci_read_model.get_many(conn, [i for i in ids if i is not None])
    return {ci_id: record.name for ci_id, record in records.items()}


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
    return record_of(IncidentFact, row)


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
        first = {"change_id": change_id, "ci_id": ci_id, **values}
        inserted = await conn.execute(insert_ignoring_duplicates(change_on_ci, first), first)
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
