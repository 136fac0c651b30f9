"""Incident routes: validate, call the use case, return a schema."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.incident import store, usecases
from services.incident.domain import IncidentStatus
from services.incident.schemas import IncidentCreate, IncidentPage, IncidentRead
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import NotFound

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Reporter = Annotated[Principal, Depends(require_roles(Role.REQUESTER, Role.AGENT))]


@router.post("", status_code=201, response_model=IncidentRead)
async def create_incident(body: IncidentCreate, uow: UnitOfWorkDep, _: Reporter, response: Response) -> IncidentRead:
    incident = await usecases.open_incident(usecases.OpenIncident(**body.model_dump()), uow)
    response.headers["Location"] = f"{router.prefix}/{incident.id}"
    response.headers["ETag"] = f'W/"{incident.version}"'
    return IncidentRead.of(incident)


@router.get("/{incident_id}", response_model=IncidentRead)
async def get_incident(incident_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> IncidentRead:
    incident = await store.get_incident(conn, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} does not exist")
    response.headers["ETag"] = f'W/"{incident.version}"'
    return IncidentRead.of(incident)


@router.get("", response_model=IncidentPage)
async def list_incidents(
    conn: ReadConnectionDep,
    _: Reader,
    status: IncidentStatus | None = None,
    priority: Annotated[int | None, Query(ge=1, le=5)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> IncidentPage:
    items, total = await store.list_incidents(
        conn, status=status.value if status else None, priority=priority, limit=limit, offset=offset
    )
    return IncidentPage(items=[IncidentRead.of(i) for i in items], total=total, limit=limit, offset=offset)
