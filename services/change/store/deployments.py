"""Deployments and the pipeline notifications taken: their rows and reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain.deployments import Deployment, DeploymentResult, Environment
from services.change.store.tables import deployment, deployment_notification
from shared.db import page, record_of, row_by_id, row_values, update_versioned, where_given


def _deployment_row(d: Deployment) -> dict[str, Any]:
    return row_values(deployment, d, environment=d.environment.value, result=d.result.value)


def _deployment(row: Any) -> Deployment:
    return record_of(Deployment, row, environment=Environment(row.environment), result=DeploymentResult(row.result))


async def add_deployment(conn: AsyncConnection, d: Deployment) -> None:
    await conn.execute(deployment.insert().values(_deployment_row(d)))


async def save_deployment(conn: AsyncConnection, d: Deployment, expected_version: int) -> None:
    values = _deployment_row(d)
    del values["id"], values["recorded_at"], values["recorded_by"]
    await update_versioned(
        conn, deployment, d.id, expected_version, values, label=f"deployment {d.id}", version_column="row_version"
    )


async def get_deployment(conn: AsyncConnection, deployment_id: UUID, *, for_update: bool = False) -> Deployment | None:
    row = await row_by_id(conn, deployment, deployment_id, for_update=for_update)
    return _deployment(row) if row else None


async def deployment_by_external_id(conn: AsyncConnection, source: str, external_id: str) -> Deployment | None:
    query = select(deployment).where(deployment.c.source == source, deployment.c.external_id == external_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _deployment(row) if row else None


async def list_deployments(
    conn: AsyncConnection,
    *,
    service: str | None = None,
    service_id: UUID | None = None,
    environment: str | None = None,
    result: str | None = None,
    release_id: UUID | None = None,
    change_id: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[Deployment], int]:
    d = deployment
    query = select(d)
    if service is not None:
        query = query.where(func.lower(d.c.service) == service.lower())
    query = where_given(
        query,
        d,
        service_id=service_id,
        environment=environment,
        result=result,
        release_id=release_id,
        change_id=change_id,
    )
    if since is not None:
        query = query.where(d.c.recorded_at >= since)
    if until is not None:
        query = query.where(d.c.recorded_at < until)
    rows, total = await page(conn, query, d.c.recorded_at.desc(), d.c.id, limit=limit, offset=offset)
    return [_deployment(r) for r in rows], total


async def notification_seen(conn: AsyncConnection, source: str, notification_id: str) -> UUID | None:
    n = deployment_notification
    found = await conn.scalar(
        select(n.c.deployment_id).where(n.c.source == source, n.c.notification_id == notification_id)
    )
    return found if isinstance(found, UUID) else None


async def add_notification(
    conn: AsyncConnection,
    *,
    source: str,
    notification_id: str,
    deployment_id: UUID,
    status: str,
    delivery_id: str | None,
    now: datetime,
) -> bool:
    """Remember a notification; False when a concurrent delivery of the same one got there first
    (the caller's transaction then rolls back and answers from the first)."""
    try:
        async with conn.begin_nested():
            await conn.execute(
                deployment_notification.insert().values(
                    source=source,
                    notification_id=notification_id,
                    deployment_id=deployment_id,
                    status=status,
                    delivery_id=delivery_id,
                    received_at=now,
                )
            )
    except IntegrityError:
        return False
    return True
