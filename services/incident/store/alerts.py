"""Alert intake persistence: one row per Alertmanager alert (fingerprint) and the incident it opened."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incident.domain.alerts import NamedCI
from services.incident.store.tables import (
    ci_read_model,
    incident,
    monitoring_alert,
)
from shared.db import page, where_given


async def cis_called(conn: AsyncConnection, reference: str) -> list[NamedCI]:
    """The CIs of the read model an alert's CI label may name (by number, name or identifier)."""
    return [
        NamedCI(
            id=r.id,
            number=r.number,
            name=r.name,
            retired=r.retired,
            serial=r.serial,
            hostname=r.hostname,
            fqdn=r.fqdn,
            cloud_id=r.cloud_id,
        )
        for r in await ci_read_model.called(conn, reference)
    ]


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


async def seen_firing_since(conn: AsyncConnection, fingerprint: str, instant: datetime) -> bool:
    """Whether an alert with this fingerprint started at or after `instant`, or is firing and was
    last seen then or later (a new episode counted on the row of an earlier one, whose incident a
    person still works)."""
    query = (
        select(monitoring_alert.c.id)
        .where(
            monitoring_alert.c.fingerprint == fingerprint,
            or_(
                monitoring_alert.c.starts_at >= instant - timedelta(milliseconds=1),
                (monitoring_alert.c.status == "firing") & (monitoring_alert.c.last_seen_at >= instant),
            ),
        )
        .limit(1)
    )
    return (await conn.execute(query)).first() is not None


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
    query = where_given(
        select(monitoring_alert), monitoring_alert, fingerprint=fingerprint, incident_id=incident_id, status=status
    )
    return await page(
        conn, query, monitoring_alert.c.last_seen_at.desc(), monitoring_alert.c.id, limit=limit, offset=offset
    )
