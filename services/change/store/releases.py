"""Persistence of templates, releases, deployments and pipeline notifications; reads of the incidents
linked to changes (the table `change_incident_link` is the change's own, in services.change.store).

The tables live on the change service's metadata (one database, one set of migrations).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.delivery.domain import (
    AcceptanceResult,
    ActiveBlackout,
    ChangeTemplate,
    Deployment,
    DeploymentResult,
    Environment,
    OpenChange,
    Release,
    ReleaseStatus,
    ReleaseType,
)
from services.change.store import (
    ON_THE_SCHEDULE,
    blackout_window,
    change,
    change_affected_ci,
    change_incident_link,
    change_service,
    metadata,
)
from shared.db import UtcDateTime, page, update_versioned
from shared.errors import PreconditionFailed
from shared.numbering import next_number

change_template = Table(
    "change_template",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("category", String(50)),
    Column("service_id", Uuid, index=True),
    Column("pipeline_names", JSON, nullable=False, server_default="[]"),
    Column("implementation_plan", Text, nullable=False),
    Column("backout_plan", Text, nullable=False),
    Column("test_plan", Text, nullable=False, server_default=""),
    Column("default_duration_s", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("pipeline_default", Boolean, nullable=False, server_default="false"),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

release = Table(
    "release",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("version", String(100), nullable=False),
    Column("type", String(20), nullable=False),
    Column("service_id", Uuid, index=True),
    Column("change_ids", JSON, nullable=False, server_default="[]"),
    Column("known_error_ids", JSON, nullable=False, server_default="[]"),
    Column("planned_date", UtcDateTime),
    Column("acceptance_criteria", JSON, nullable=False, server_default="[]"),
    Column("acceptance_result", String(10)),
    Column("acceptance_notes", Text, nullable=False, server_default=""),
    Column("acceptance_by", String(200)),
    Column("status", String(20), nullable=False, index=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("deployed_at", UtcDateTime),
    Column("notes", Text, nullable=False, server_default=""),
    Column("row_version", Integer, nullable=False),
)

deployment = Table(
    "deployment",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("service", String(200), nullable=False, index=True),
    Column("service_id", Uuid, index=True),
    Column("environment", String(20), nullable=False),
    Column("version", String(100)),
    Column("release_id", Uuid, index=True),
    Column("change_id", Uuid, index=True),
    Column("change_number", String(20)),
    Column("result", String(20), nullable=False),
    Column("started_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("commit_sha", String(64)),
    Column("ref", String(255)),
    Column("url", String(2000)),
    Column("source", String(20), nullable=False),
    Column("external_id", String(200)),
    Column("verification", Text, nullable=False, server_default=""),
    Column("rollback_notes", Text, nullable=False, server_default=""),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False, index=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("row_version", Integer, nullable=False),
    # One record per deployment a pipeline reports, however many statuses it sends about it.
    UniqueConstraint("source", "external_id", name="uq_deployment_source_external_id"),
)

# Every pipeline notification taken, by the id its sender gave it (GitHub: the deployment status
# id): the same notification delivered again is answered from here and changes nothing.
deployment_notification = Table(
    "deployment_notification",
    metadata,
    Column("source", String(20), primary_key=True),
    Column("notification_id", String(200), primary_key=True),
    Column("deployment_id", Uuid, nullable=False, index=True),
    Column("status", String(50), nullable=False),
    Column("delivery_id", String(200)),
    Column("received_at", UtcDateTime, nullable=False),
)


# ---------------------------------------------------------------------------- templates


def _template_row(t: ChangeTemplate) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "category": t.category,
        "service_id": t.service_id,
        "pipeline_names": list(t.pipeline_names),
        "implementation_plan": t.implementation_plan,
        "backout_plan": t.backout_plan,
        "test_plan": t.test_plan,
        "default_duration_s": int(t.default_duration.total_seconds()),
        "active": t.active,
        "pipeline_default": t.pipeline_default,
        "created_by": t.created_by,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "version": t.version,
    }


def _template(row: Any) -> ChangeTemplate:
    return ChangeTemplate(
        id=row.id,
        name=row.name,
        description=row.description,
        category=row.category,
        service_id=row.service_id,
        pipeline_names=tuple(row.pipeline_names),
        implementation_plan=row.implementation_plan,
        backout_plan=row.backout_plan,
        test_plan=row.test_plan,
        default_duration=timedelta(seconds=row.default_duration_s),
        active=row.active,
        pipeline_default=row.pipeline_default,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


async def add_template(conn: AsyncConnection, t: ChangeTemplate) -> None:
    await conn.execute(change_template.insert().values(_template_row(t)))


async def save_template(conn: AsyncConnection, t: ChangeTemplate, expected_version: int) -> None:
    values = _template_row(t)
    del values["id"], values["created_at"], values["created_by"]
    await update_versioned(conn, change_template, t.id, expected_version, values, label=f"template {t.name!r}")


async def get_template(conn: AsyncConnection, template_id: UUID, *, for_update: bool = False) -> ChangeTemplate | None:
    query = select(change_template).where(change_template.c.id == template_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _template(row) if row else None


async def list_templates(conn: AsyncConnection, *, active: bool | None = None) -> list[ChangeTemplate]:
    query = select(change_template)
    if active is not None:
        query = query.where(change_template.c.active == active)
    rows = await conn.execute(query.order_by(change_template.c.created_at, change_template.c.id))
    return [_template(r) for r in rows]


async def template_in_use(conn: AsyncConnection, template_id: UUID) -> bool:
    return bool(await conn.scalar(select(func.count()).where(change.c.template_id == template_id)))


async def delete_template(conn: AsyncConnection, template_id: UUID) -> bool:
    result = await conn.execute(delete(change_template).where(change_template.c.id == template_id))
    return bool(result.rowcount)


# ---------------------------------------------------------------------------- releases


def _release_row(r: Release) -> dict[str, Any]:
    return {
        "id": r.id,
        "number": r.number,
        "name": r.name,
        "version": r.version,
        "type": r.release_type.value,
        "service_id": r.service_id,
        "change_ids": [str(c) for c in r.change_ids],
        "known_error_ids": [str(k) for k in r.known_error_ids],
        "planned_date": r.planned_date,
        "acceptance_criteria": list(r.acceptance_criteria),
        "acceptance_result": r.acceptance_result.value if r.acceptance_result else None,
        "acceptance_notes": r.acceptance_notes,
        "acceptance_by": r.acceptance_by,
        "status": r.status.value,
        "created_by": r.created_by,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "deployed_at": r.deployed_at,
        "notes": r.notes,
        "row_version": r.row_version,
    }


def _release(row: Any) -> Release:
    return Release(
        id=row.id,
        number=row.number,
        name=row.name,
        version=row.version,
        release_type=ReleaseType(row.type),
        service_id=row.service_id,
        change_ids=tuple(UUID(c) for c in row.change_ids),
        known_error_ids=tuple(UUID(k) for k in row.known_error_ids),
        planned_date=row.planned_date,
        acceptance_criteria=tuple(row.acceptance_criteria),
        acceptance_result=AcceptanceResult(row.acceptance_result) if row.acceptance_result else None,
        acceptance_notes=row.acceptance_notes,
        acceptance_by=row.acceptance_by,
        status=ReleaseStatus(row.status),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deployed_at=row.deployed_at,
        notes=row.notes,
        row_version=row.row_version,
    )


async def next_release_number(conn: AsyncConnection) -> int:
    return await next_number(conn, "release")


async def add_release(conn: AsyncConnection, r: Release) -> None:
    await conn.execute(release.insert().values(_release_row(r)))


async def save_release(conn: AsyncConnection, r: Release, expected_version: int) -> None:
    values = _release_row(r)
    del values["id"], values["number"], values["created_at"]
    result = await conn.execute(
        update(release).where(release.c.id == r.id, release.c.row_version == expected_version).values(values)
    )
    if result.rowcount != 1:
        raise PreconditionFailed(f"{r.number} was changed by someone else meanwhile; read it again")


async def get_release(conn: AsyncConnection, release_id: UUID, *, for_update: bool = False) -> Release | None:
    query = select(release).where(release.c.id == release_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return _release(row) if row else None


async def list_releases(
    conn: AsyncConnection,
    *,
    status: str | None,
    service_id: UUID | None,
    release_type: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Release], int]:
    query = select(release)
    if status is not None:
        query = query.where(release.c.status == status)
    if service_id is not None:
        query = query.where(release.c.service_id == service_id)
    if release_type is not None:
        query = query.where(release.c.type == release_type)
    rows, total = await page(conn, query, release.c.created_at.desc(), release.c.id, limit=limit, offset=offset)
    return [_release(r) for r in rows], total


async def change_statuses(conn: AsyncConnection, change_ids: Sequence[UUID]) -> dict[UUID, tuple[str, str]]:
    """change id -> (number, status) for the changes that exist."""
    if not change_ids:
        return {}
    rows = await conn.execute(select(change.c.id, change.c.number, change.c.status).where(change.c.id.in_(change_ids)))
    return {r.id: (r.number, r.status) for r in rows}


async def change_id_by_number(conn: AsyncConnection, number: str) -> UUID | None:
    found = await conn.scalar(select(change.c.id).where(change.c.number == number))
    return found if isinstance(found, UUID) else None


# ---------------------------------------------------------------------------- deployments


def _deployment_row(d: Deployment) -> dict[str, Any]:
    return {
        "id": d.id,
        "service": d.service,
        "service_id": d.service_id,
        "environment": d.environment.value,
        "version": d.version,
        "release_id": d.release_id,
        "change_id": d.change_id,
        "change_number": d.change_number,
        "result": d.result.value,
        "started_at": d.started_at,
        "finished_at": d.finished_at,
        "commit_sha": d.commit_sha,
        "ref": d.ref,
        "url": d.url,
        "source": d.source,
        "external_id": d.external_id,
        "verification": d.verification,
        "rollback_notes": d.rollback_notes,
        "recorded_by": d.recorded_by,
        "recorded_at": d.recorded_at,
        "updated_at": d.updated_at,
        "row_version": d.row_version,
    }


def _deployment(row: Any) -> Deployment:
    return Deployment(
        id=row.id,
        service=row.service,
        service_id=row.service_id,
        environment=Environment(row.environment),
        version=row.version,
        release_id=row.release_id,
        change_id=row.change_id,
        change_number=row.change_number,
        result=DeploymentResult(row.result),
        started_at=row.started_at,
        finished_at=row.finished_at,
        commit_sha=row.commit_sha,
        ref=row.ref,
        url=row.url,
        source=row.source,
        external_id=row.external_id,
        verification=row.verification,
        rollback_notes=row.rollback_notes,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
        updated_at=row.updated_at,
        row_version=row.row_version,
    )


async def add_deployment(conn: AsyncConnection, d: Deployment) -> None:
    await conn.execute(deployment.insert().values(_deployment_row(d)))


async def save_deployment(conn: AsyncConnection, d: Deployment, expected_version: int) -> None:
    values = _deployment_row(d)
    del values["id"], values["recorded_at"], values["recorded_by"]
    result = await conn.execute(
        update(deployment).where(deployment.c.id == d.id, deployment.c.row_version == expected_version).values(values)
    )
    if result.rowcount != 1:
        raise PreconditionFailed(f"deployment {d.id} was changed by someone else meanwhile; read it again")


async def get_deployment(conn: AsyncConnection, deployment_id: UUID, *, for_update: bool = False) -> Deployment | None:
    query = select(deployment).where(deployment.c.id == deployment_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
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
    for column, value in (
        (d.c.service_id, service_id),
        (d.c.environment, environment),
        (d.c.result, result),
        (d.c.release_id, release_id),
        (d.c.change_id, change_id),
    ):
        if value is not None:
            query = query.where(column == value)
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


# ---------------------------------------------------------------------------- incidents after a change


async def incidents_of(conn: AsyncConnection, change_ids: Sequence[UUID]) -> list[Any]:
    if not change_ids:
        return []
    c = change_incident_link
    rows = await conn.execute(
        select(c).where(c.c.change_id.in_(list(change_ids))).order_by(c.c.linked_at, c.c.incident_number)
    )
    return list(rows)


# ---------------------------------------------------------------------------- the gate


async def open_changes_for(conn: AsyncConnection, service_id: UUID, at: datetime) -> list[OpenChange]:
    """The service's changes on the schedule whose window contains `at`."""
    query = (
        select(change.c.id, change.c.number, change.c.status, change.c.planned_start, change.c.planned_end)
        .join(change_service, change_service.c.change_id == change.c.id)
        .where(
            change_service.c.service_id == service_id,
            change.c.status.in_(ON_THE_SCHEDULE),
            change.c.planned_start <= at,
            change.c.planned_end > at,
        )
    )
    rows = (await conn.execute(query)).all()
    if not rows:
        return []
    links = await conn.execute(
        select(change_affected_ci).where(change_affected_ci.c.change_id.in_([r.id for r in rows]))
    )
    cis: dict[UUID, set[UUID]] = {}
    for link in links:
        cis.setdefault(link.change_id, set()).add(link.ci_id)
    return [
        OpenChange(r.id, r.number, r.status, r.planned_start, r.planned_end, frozenset(cis.get(r.id, set())))
        for r in rows
    ]


async def blackouts_at(conn: AsyncConnection, at: datetime) -> list[ActiveBlackout]:
    b = blackout_window
    rows = await conn.execute(select(b).where(b.c.start <= at, b.c.end > at).order_by(b.c.start))
    return [ActiveBlackout(r.id, r.name, r.start, r.end, frozenset(UUID(i) for i in r.ci_ids)) for r in rows]
