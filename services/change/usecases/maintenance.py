"""Maintenance window use cases: define, replace and delete a service's windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from uuid import UUID, uuid4

from services.change.domain.maintenance import MaintenanceWindow
from services.change.store import maintenance as store
from services.change.store.changes import KnownCIs
from services.change.usecases.changes import DEFAULT_GOVERNANCE, Governance, check_cis
from shared import clock
from shared.errors import NotFound
from shared.uow import AnyUnitOfWork


@dataclass(frozen=True)
class WindowInput:
    service_id: UUID
    name: str
    time_zone: str
    days: tuple[int, ...]
    start: time
    duration: timedelta


async def add_maintenance_window(
    body: WindowInput, *, actor: str, uow: AnyUnitOfWork, governance: Governance = DEFAULT_GOVERNANCE
) -> MaintenanceWindow:
    window = MaintenanceWindow.define(
        window_id=uuid4(),
        service_id=body.service_id,
        name=body.name,
        time_zone=body.time_zone,
        days=body.days,
        start=body.start,
        duration=body.duration,
    )
    async with uow:
        await check_cis(uow.repository(KnownCIs), governance, service_id=[body.service_id])
        await store.add_maintenance_window(uow.connection, window, actor=actor, now=clock.now())
        await uow.commit()
    return window


async def replace_maintenance_window(
    window_id: UUID, body: WindowInput, *, uow: AnyUnitOfWork, governance: Governance = DEFAULT_GOVERNANCE
) -> MaintenanceWindow:
    window = MaintenanceWindow.define(
        window_id=window_id,
        service_id=body.service_id,
        name=body.name,
        time_zone=body.time_zone,
        days=body.days,
        start=body.start,
        duration=body.duration,
    )
    async with uow:
        await check_cis(uow.repository(KnownCIs), governance, service_id=[body.service_id])
        if not await store.replace_maintenance_window(uow.connection, window):
            raise NotFound(f"maintenance window {window_id} does not exist")
        await uow.commit()
    return window


async def delete_maintenance_window(window_id: UUID, *, uow: AnyUnitOfWork) -> None:
    async with uow:
        if not await store.delete_maintenance_window(uow.connection, window_id):
            raise NotFound(f"maintenance window {window_id} does not exist")
        await uow.commit()
