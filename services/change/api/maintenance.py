"""Maintenance window routes: a service's recurring weekly windows for changes."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from services.change.api.deps import POLICY, Caller, CurrentMaintenanceWindow, GovernanceDep
from services.change.schemas.maintenance import MaintenanceWindowRead, MaintenanceWindowWrite
from services.change.store.maintenance import maintenance_windows
from services.change.usecases import maintenance as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep

schedule_router = APIRouter(prefix="/api/v1", tags=["schedule"], dependencies=[Depends(POLICY.enforce)])


def _window_input(body: MaintenanceWindowWrite) -> usecases.WindowInput:
    return usecases.WindowInput(
        service_id=body.service_id,
        name=body.name,
        time_zone=body.time_zone,
        days=tuple(body.days),
        start=body.start,
        duration=timedelta(minutes=body.duration_minutes),
    )


@schedule_router.post("/maintenance-windows", status_code=201, response_model=MaintenanceWindowRead)
async def create_maintenance_window(
    body: MaintenanceWindowWrite, uow: UnitOfWorkDep, who: Caller, response: Response, governance: GovernanceDep
) -> MaintenanceWindowRead:
    """A recurring weekly window in a time zone when the service may be changed; a change on the
    service outside every window of it is an `outside_maintenance_window` conflict."""
    window = await usecases.add_maintenance_window(
        _window_input(body), actor=who.subject, uow=uow, governance=governance
    )
    response.headers["Location"] = f"{schedule_router.prefix}/maintenance-windows/{window.id}"
    return MaintenanceWindowRead.of(window)


@schedule_router.get("/maintenance-windows", response_model=list[MaintenanceWindowRead])
async def list_maintenance_windows(
    conn: ReadConnectionDep, service_id: UUID | None = None
) -> list[MaintenanceWindowRead]:
    found = await maintenance_windows(conn, None if service_id is None else [service_id])
    return [MaintenanceWindowRead.of(w) for windows in found.values() for w in windows]


@schedule_router.get("/maintenance-windows/{window_id}", response_model=MaintenanceWindowRead)
async def get_maintenance_window(window: CurrentMaintenanceWindow) -> MaintenanceWindowRead:
    return MaintenanceWindowRead.of(window)


@schedule_router.put("/maintenance-windows/{window_id}", response_model=MaintenanceWindowRead)
async def replace_maintenance_window(
    window_id: UUID, body: MaintenanceWindowWrite, uow: UnitOfWorkDep, governance: GovernanceDep
) -> MaintenanceWindowRead:
    window = await usecases.replace_maintenance_window(window_id, _window_input(body), uow=uow, governance=governance)
    return MaintenanceWindowRead.of(window)


@schedule_router.delete("/maintenance-windows/{window_id}", status_code=204)
async def delete_maintenance_window(window_id: UUID, uow: UnitOfWorkDep) -> Response:
    await usecases.delete_maintenance_window(window_id, uow=uow)
    return Response(status_code=204)
