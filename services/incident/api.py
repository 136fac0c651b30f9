"""Incident routes: validate, call the use case, return a schema."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response

from services.incident import store, usecases
from services.incident.domain import Incident, IncidentStatus
from services.incident.schemas import (
    Assignment,
    HistoryEntry,
    Hold,
    IncidentCreate,
    IncidentPage,
    IncidentRead,
    Reason,
    Resolution,
)
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import NotFound
from shared.http import etag, expected_version

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
    assignment_group: Annotated[str | None, Query(max_length=100)] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    ci_id: UUID | None = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="In the title or description, or a number")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> IncidentPage:
    items, total = await store.list_incidents(
        conn,
        status=status.value if status else None,
        priority=priority,
        limit=limit,
        offset=offset,
        assignment_group=assignment_group,
        assignee=assignee,
        ci_id=ci_id,
        text=q,
    )
    return IncidentPage(items=[IncidentRead.of(i) for i in items], total=total, limit=limit, offset=offset)


# ---------------------------------------------------------------------------- the lifecycle

Worker = Annotated[Principal, Depends(require_roles(Role.AGENT))]
Confirmer = Annotated[Principal, Depends(require_roles(Role.AGENT, Role.REQUESTER))]
IfMatch = Annotated[str | None, Header(description='The ETag read, e.g. W/"3" (optional)')]


async def _do(
    incident_id: UUID,
    who: Principal,
    if_match: str | None,
    uow: UnitOfWorkDep,
    response: Response,
    apply: Callable[[Incident, datetime], None],
) -> IncidentRead:
    cmd = usecases.Act(incident_id, who.subject, expected_version(if_match) if if_match else None)
    incident = await usecases.act(cmd, uow, apply)
    response.headers["ETag"] = etag(incident.version)
    return IncidentRead.of(incident)


@router.post("/{incident_id}/assign", response_model=IncidentRead)
async def assign(
    incident_id: UUID, body: Assignment, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(
        incident_id,
        who,
        if_match,
        uow,
        response,
        lambda i, now: i.assign(
            group=body.assignment_group, assignee=body.assignee, actor=who.subject, now=now, reason=body.reason
        ),
    )


@router.post("/{incident_id}/start", response_model=IncidentRead)
async def start(
    incident_id: UUID, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(incident_id, who, if_match, uow, response, lambda i, now: i.start(who.subject, now))


@router.post("/{incident_id}/hold", response_model=IncidentRead)
async def hold(
    incident_id: UUID, body: Hold, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(
        incident_id, who, if_match, uow, response, lambda i, now: i.hold(body.reason, who.subject, now, body.note)
    )


@router.post("/{incident_id}/resume", response_model=IncidentRead)
async def resume(
    incident_id: UUID, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(incident_id, who, if_match, uow, response, lambda i, now: i.resume(who.subject, now))


@router.post("/{incident_id}/resolve", response_model=IncidentRead)
async def resolve(
    incident_id: UUID, body: Resolution, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(
        incident_id,
        who,
        if_match,
        uow,
        response,
        lambda i, now: i.resolve(code=body.resolution_code, notes=body.resolution_notes, actor=who.subject, now=now),
    )


@router.post("/{incident_id}/close", response_model=IncidentRead, summary="Close (the caller confirms)")
async def close(
    incident_id: UUID, uow: UnitOfWorkDep, who: Confirmer, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(incident_id, who, if_match, uow, response, lambda i, now: i.close(who.subject, now))


@router.post("/{incident_id}/reopen", response_model=IncidentRead)
async def reopen(
    incident_id: UUID, body: Reason, uow: UnitOfWorkDep, who: Confirmer, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(incident_id, who, if_match, uow, response, lambda i, now: i.reopen(body.reason, who.subject, now))


@router.post("/{incident_id}/cancel", response_model=IncidentRead)
async def cancel(
    incident_id: UUID, body: Reason, uow: UnitOfWorkDep, who: Worker, response: Response, if_match: IfMatch = None
) -> IncidentRead:
    return await _do(incident_id, who, if_match, uow, response, lambda i, now: i.cancel(body.reason, who.subject, now))


@router.get("/{incident_id}/history", response_model=list[HistoryEntry])
async def history(incident_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[HistoryEntry]:
    if await store.get_incident(conn, incident_id) is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return [HistoryEntry.model_validate(r, from_attributes=True) for r in await store.history_of(conn, incident_id)]
