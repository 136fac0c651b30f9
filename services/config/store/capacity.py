"""Capacity's tables: metrics, thresholds per CI (with the level each stands at), samples (one
per grid instant, written idempotently), the source's last status, and capacity plans."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.store.tables import (
    capacity_metric,
    capacity_plan,
    capacity_sample,
    capacity_source,
    capacity_threshold,
    config_item,
)
from shared.db import insert_ignoring_duplicates, upsert_statement

INSERT_CHUNK = 2000
"""Samples per INSERT (bounded parameters per statement on both databases)."""


async def add_metric(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(capacity_metric.insert().values(**values))


async def metric_named(conn: AsyncConnection, name: str, *, for_update: bool = False) -> Any:
    query = select(capacity_metric).where(capacity_metric.c.name == name)
    if for_update:
        query = query.with_for_update()
    return (await conn.execute(query)).one_or_none()


async def all_metrics(conn: AsyncConnection) -> Sequence[Any]:
    return (await conn.execute(select(capacity_metric).order_by(capacity_metric.c.name))).all()


async def page_of_metrics(conn: AsyncConnection, *, limit: int, offset: int) -> tuple[Sequence[Any], int]:
    rows = (
        await conn.execute(select(capacity_metric).order_by(capacity_metric.c.name).limit(limit).offset(offset))
    ).all()
    total = (await conn.execute(select(func.count()).select_from(capacity_metric))).scalar_one()
    return rows, total


async def ci_exists(conn: AsyncConnection, ci_id: UUID) -> bool:
    found = await conn.execute(select(config_item.c.id).where(config_item.c.id == ci_id))
    return found.first() is not None


async def put_threshold(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    """Set a CI's thresholds on a metric; its level and last sample stay as they were."""
    statement = upsert_statement(
        capacity_threshold, values, key=("metric_id", "ci_id"), updating=("warning", "critical", "updated_at")
    )
    await conn.execute(statement, dict(values))


async def threshold_of(conn: AsyncConnection, metric_id: UUID, ci_id: UUID) -> Any:
    query = select(capacity_threshold).where(
        capacity_threshold.c.metric_id == metric_id, capacity_threshold.c.ci_id == ci_id
    )
    return (await conn.execute(query)).one_or_none()


async def thresholds_of(conn: AsyncConnection, metric_id: UUID) -> dict[str, Any]:
    """The metric's thresholds by CI id (as text: what the PromQL label carries)."""
    query = select(capacity_threshold).where(capacity_threshold.c.metric_id == metric_id)
    return {str(row.ci_id): row for row in (await conn.execute(query)).all()}


async def save_levels(conn: AsyncConnection, metric_id: UUID, changes: Iterable[Mapping[str, Any]]) -> None:
    """The new level of each CI whose level a pass moved (`ci_id`, `level`, `level_since`)."""
    statement = (
        update(capacity_threshold)
        .where(capacity_threshold.c.metric_id == metric_id, capacity_threshold.c.ci_id == bindparam("b_ci_id"))
        .values(
            level=bindparam("b_level"),
            level_since=bindparam("b_level_since"),
        )
    )
    rows = [{f"b_{key}": value for key, value in change.items()} for change in changes]
    if rows:
        await conn.execute(statement, rows)


async def add_samples(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Store samples; an instant already stored for the CI and metric is left as it is."""
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = list(rows[start : start + INSERT_CHUNK])
        await conn.execute(insert_ignoring_duplicates(capacity_sample, chunk[0]), chunk)


async def mark_sampled(conn: AsyncConnection, metric_id: UUID, until: datetime) -> None:
    await conn.execute(update(capacity_metric).where(capacity_metric.c.id == metric_id).values(sampled_until=until))


async def samples_of(
    conn: AsyncConnection, metric_id: UUID, ci_id: UUID, *, since: datetime | None, limit: int
) -> Sequence[Any]:
    query = select(capacity_sample.c.at, capacity_sample.c.value).where(
        capacity_sample.c.metric_id == metric_id, capacity_sample.c.ci_id == ci_id
    )
    if since is not None:
        query = query.where(capacity_sample.c.at >= since)
    # the latest `limit`, returned oldest first
    latest = query.order_by(capacity_sample.c.at.desc()).limit(limit).subquery()
    return (await conn.execute(select(latest).order_by(latest.c.at))).all()


async def recent_samples(
    conn: AsyncConnection, metric_id: UUID, ci_ids: Iterable[UUID], *, since: datetime
) -> dict[UUID, list[tuple[datetime, float]]]:
    """The samples of several CIs on a metric after `since`, by CI, oldest first (one query per
    500 CIs: SQLite's bound on parameters)."""
    wanted = sorted(set(ci_ids))
    found: dict[UUID, list[tuple[datetime, float]]] = {}
    s = capacity_sample.c
    for start in range(0, len(wanted), 500):
        query = (
            select(s.ci_id, s.at, s.value)
            .where(s.metric_id == metric_id, s.ci_id.in_(wanted[start : start + 500]), s.at > since)
            .order_by(s.ci_id, s.at)
        )
        for row in await conn.execute(query):
            found.setdefault(row.ci_id, []).append((row.at, row.value))
    return found


async def purge_samples(conn: AsyncConnection, before: datetime) -> int:
    result = await conn.execute(delete(capacity_sample).where(capacity_sample.c.at < before))
    return result.rowcount or 0


async def record_source(
    conn: AsyncConnection, name: str, *, status: str, detail: str, now: datetime, success: bool
) -> None:
    values: dict[str, Any] = {"name": name, "status": status, "detail": detail[:500], "checked_at": now}
    if success:
        values["last_success_at"] = now
    await conn.execute(upsert_statement(capacity_source, values, key=("name",)), values)


async def source_status(conn: AsyncConnection) -> Sequence[Any]:
    return (await conn.execute(select(capacity_source).order_by(capacity_source.c.name))).all()


async def runway_rows(
    conn: AsyncConnection, *, limit: int, offset: int, level: str | None
) -> tuple[Sequence[Any], int]:
    """Thresholds with their metric, worst level first (what utilisation against thresholds shows)."""
    joined = capacity_threshold.join(capacity_metric, capacity_metric.c.id == capacity_threshold.c.metric_id)
    query = select(
        capacity_threshold,
        capacity_metric.c.name.label("metric"),
        capacity_metric.c.unit,
    ).select_from(joined)
    count = select(func.count()).select_from(capacity_threshold)
    if level is not None:
        query = query.where(capacity_threshold.c.level == level)
        count = count.where(capacity_threshold.c.level == level)
    query = query.order_by(capacity_threshold.c.ci_id, capacity_metric.c.name).limit(limit).offset(offset)
    return (await conn.execute(query)).all(), (await conn.execute(count)).scalar_one()


async def add_plan(conn: AsyncConnection, values: Mapping[str, Any]) -> None:
    await conn.execute(capacity_plan.insert().values(**values))


async def latest_plan_version(conn: AsyncConnection, service_id: UUID) -> int:
    query = select(func.max(capacity_plan.c.version)).where(capacity_plan.c.service_id == service_id)
    return int((await conn.execute(query)).scalar_one() or 0)


async def get_plan(conn: AsyncConnection, plan_id: UUID) -> Any:
    return (await conn.execute(select(capacity_plan).where(capacity_plan.c.id == plan_id))).one_or_none()


async def page_of_plans(
    conn: AsyncConnection, *, service_id: UUID | None, limit: int, offset: int
) -> tuple[Sequence[Any], int]:
    query = select(capacity_plan)
    count = select(func.count()).select_from(capacity_plan)
    if service_id is not None:
        query = query.where(capacity_plan.c.service_id == service_id)
        count = count.where(capacity_plan.c.service_id == service_id)
    query = query.order_by(capacity_plan.c.service_id, capacity_plan.c.version.desc()).limit(limit).offset(offset)
    return (await conn.execute(query)).all(), (await conn.execute(count)).scalar_one()
