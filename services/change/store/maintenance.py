"""Maintenance windows of services: their rows and reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.domain.maintenance import MaintenanceWindow
from services.change.store.tables import maintenance_window


def _window(row: Any) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=row.id,
        service_id=row.service_id,
        name=row.name,
        time_zone=row.time_zone,
        days=frozenset(row.days),
        start=time.fromisoformat(row.start_time),
        duration=timedelta(minutes=row.duration_minutes),
    )


def _window_values(window: MaintenanceWindow) -> dict[str, Any]:
    return {
        "service_id": window.service_id,
        "name": window.name,
        "time_zone": window.time_zone,
        "days": sorted(window.days),
        "start_time": window.start.isoformat(timespec="minutes"),
        "duration_minutes": int(window.duration.total_seconds() // 60),
    }


async def add_maintenance_window(
    conn: AsyncConnection, window: MaintenanceWindow, *, actor: str, now: datetime
) -> None:
    await conn.execute(
        maintenance_window.insert().values(id=window.id, created_by=actor, created_at=now, **_window_values(window))
    )


async def replace_maintenance_window(conn: AsyncConnection, window: MaintenanceWindow) -> bool:
    m = maintenance_window
    result = await conn.execute(update(m).where(m.c.id == window.id).values(_window_values(window)))
    return bool(result.rowcount)


async def delete_maintenance_window(conn: AsyncConnection, window_id: UUID) -> bool:
    result = await conn.execute(delete(maintenance_window).where(maintenance_window.c.id == window_id))
    return bool(result.rowcount)


async def get_maintenance_window(conn: AsyncConnection, window_id: UUID) -> MaintenanceWindow | None:
    row = (await conn.execute(select(maintenance_window).where(maintenance_window.c.id == window_id))).first()
    return _window(row) if row is not None else None


async def maintenance_windows(
    conn: AsyncConnection, service_ids: Iterable[UUID] | None = None
) -> dict[UUID, list[MaintenanceWindow]]:
    """The windows of these services (of every service when None), by service."""
    m = maintenance_window
    query = select(m).order_by(m.c.service_id, m.c.name, m.c.id)
    if service_ids is not None:
        ids = list(set(service_ids))
        if not ids:
            return {}
        query = query.where(m.c.service_id.in_(ids))
    found: defaultdict[UUID, list[MaintenanceWindow]] = defaultdict(list)
    for row in await conn.execute(query):
        found[row.service_id].append(_window(row))
    return dict(found)
