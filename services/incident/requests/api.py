"""Service request routes: the request catalogue, requests and one endpoint per action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response

from services.incident.requests import store, usecases
from services.incident.requests.domain import RequestStatus, ServiceRequest
from services.incident.requests.schemas import (
    CatalogueItemRead,
    CatalogueItemWrite,
    Decision,
    Fulfilment,
    HistoryEntry,
    Rejection,
    RequestCreate,
    RequestPage,
    RequestRead,
    Start,
)
from services.incident.sla import usecases as sla
from services.incident.sla.schemas import ClockRead
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, current_principal, require_roles
from shared.errors import NotFound
from shared.http import etag, expected_version

router = APIRouter(tags=["service requests"])

ITEMS, REQUESTS = "/api/v1/catalogue/items", "/api/v1/requests"
Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
CatalogueManager = Annotated[Principal, Depends(require_roles(Role.SERVICE_LEVEL_MANAGER))]
Requester = Annotated[Principal, Depends(require_roles(Role.REQUESTER, Role.AGENT))]
Worker = Annotated[Principal, Depends(require_roles(Role.AGENT))]
# Who may approve is whoever holds the item's approver role, which may be any role of the identity
# provider: the domain checks it (and separation of duties).
Actor = Annotated[Principal, Depends(current_principal)]
IfMatch = Annotated[str | None, Header(description='The ETag read, e.g. W/"3" (optional)')]


def _version(if_match: str | None) -> int | None:
    return expected_version(if_match) if if_match else None


# The catalogue -----------------------------------------------------------------------------------


@router.post(ITEMS, status_code=201, response_model=CatalogueItemRead, tags=["catalogue"])
async def create_item(
    body: CatalogueItemWrite, uow: UnitOfWorkDep, _: CatalogueManager, response: Response
) -> CatalogueItemRead:
    item, at = await usecases.create_item(body.to_domain, uow)
    response.headers["Location"] = f"{ITEMS}/{item.id}"
    response.headers["ETag"] = etag(item.version)
    return CatalogueItemRead.of(item, at)


@router.get(ITEMS, response_model=list[CatalogueItemRead], tags=["catalogue"])
async def list_items(
    conn: ReadConnectionDep, _: Reader, service_id: UUID | None = None, active: bool | None = None
) -> list[CatalogueItemRead]:
    return [CatalogueItemRead.of(i, at) for i, at in await store.list_items(conn, service_id=service_id, active=active)]


@router.get(ITEMS + "/{item_id}", response_model=CatalogueItemRead, tags=["catalogue"])
async def get_item(item_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> CatalogueItemRead:
    found = await store.get_item(conn, item_id)
    if found is None:
        raise NotFound(f"catalogue item {item_id} does not exist")
    response.headers["ETag"] = etag(found[0].version)
    return CatalogueItemRead.of(*found)


@router.put(ITEMS + "/{item_id}", response_model=CatalogueItemRead, tags=["catalogue"])
async def replace_item(
    item_id: UUID,
    body: CatalogueItemWrite,
    uow: UnitOfWorkDep,
    _: CatalogueManager,
    response: Response,
    if_match: IfMatch = None,
) -> CatalogueItemRead:
    item, at = await usecases.replace_item(item_id, body.to_domain, _version(if_match), uow)
    response.headers["ETag"] = etag(item.version)
    return CatalogueItemRead.of(item, at)


@router.delete(ITEMS + "/{item_id}", status_code=204, tags=["catalogue"])
async def delete_item(item_id: UUID, uow: UnitOfWorkDep, _: CatalogueManager, if_match: IfMatch = None) -> Response:
    await usecases.delete_item(item_id, _version(if_match), uow)
    return Response(status_code=204)


# Requests ----------------------------------------------------------------------------------------


@router.post(REQUESTS, status_code=201, response_model=RequestRead)
async def submit_request(body: RequestCreate, uow: UnitOfWorkDep, who: Requester, response: Response) -> RequestRead:
    """Submit a request from a catalogue item; you are its requester."""
    request = await usecases.submit_request(usecases.SubmitRequest(requester=who.subject, **body.model_dump()), uow)
    response.headers["Location"] = f"{REQUESTS}/{request.id}"
    response.headers["ETag"] = etag(request.version)
    return RequestRead.of(request)


@router.get(REQUESTS + "/{request_id}", response_model=RequestRead)
async def get_request(request_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> RequestRead:
    request = await store.get_request(conn, request_id)
    if request is None:
        raise NotFound(f"request {request_id} does not exist")
    response.headers["ETag"] = etag(request.version)
    return RequestRead.of(request)


@router.get(REQUESTS, response_model=RequestPage)
async def list_requests(
    conn: ReadConnectionDep,
    _: Reader,
    status: RequestStatus | None = None,
    requester: Annotated[str | None, Query(max_length=200)] = None,
    assignment_group: Annotated[str | None, Query(max_length=100)] = None,
    catalogue_item_id: UUID | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="In the title, or a number")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> RequestPage:
    items, total = await store.list_requests(
        conn,
        status=status.value if status else None,
        requester=requester,
        assignment_group=assignment_group,
        catalogue_item_id=catalogue_item_id,
        text=q,
        limit=limit,
        offset=offset,
    )
    return RequestPage(items=[RequestRead.of(r) for r in items], total=total, limit=limit, offset=offset)


async def _do(
    request_id: UUID,
    who: Principal,
    if_match: str | None,
    uow: UnitOfWorkDep,
    response: Response,
    apply: Callable[[ServiceRequest, datetime], None],
) -> RequestRead:
    cmd = usecases.Act(request_id, who.subject, who.roles, _version(if_match))
    request = await usecases.act(cmd, uow, apply)
    response.headers["ETag"] = etag(request.version)
    return RequestRead.of(request)


@router.post(REQUESTS + "/{request_id}/approve", response_model=RequestRead)
async def approve(
    request_id: UUID, body: Decision, uow: UnitOfWorkDep, who: Actor, response: Response, if_match: IfMatch = None
) -> RequestRead:
    """Approve (the item's approver role; never your own request: 403)."""
    return await _do(
        request_id, who, if_match, uow, response, lambda r, now: r.approve(who.subject, who.roles, now, body.reason)
    )


@router.post(REQUESTS + "/{request_id}/reject", response_model=RequestRead)
async def reject(
    request_id: UUID, body: Rejection, uow: UnitOfWorkDep, who: Actor, response: Response, if_match: IfMatch = None
) -> RequestRead:
    """Reject, saying why (the item's approver role; never your own request: 403)."""
    return await _do(
        request_id, who, if_match, uow, response, lambda r, now: r.reject(who.subject, who.roles, now, body.reason)
    )


@router.post(REQUESTS + "/{request_id}/start", response_model=RequestRead)
async def start(
    request_id: UUID,
    uow: UnitOfWorkDep,
    who: Worker,
    response: Response,
    body: Start | None = None,
    if_match: IfMatch = None,
) -> RequestRead:
    assignee = body.assignee if body else None
    return await _do(request_id, who, if_match, uow, response, lambda r, now: r.start(who.subject, now, assignee))


@router.post(REQUESTS + "/{request_id}/fulfil", response_model=RequestRead)
async def fulfil(
    request_id: UUID,
    uow: UnitOfWorkDep,
    who: Worker,
    response: Response,
    body: Fulfilment | None = None,
    if_match: IfMatch = None,
) -> RequestRead:
    notes = body.notes if body else ""
    return await _do(request_id, who, if_match, uow, response, lambda r, now: r.fulfil(who.subject, now, notes))


@router.post(REQUESTS + "/{request_id}/close", response_model=RequestRead, summary="Close (the requester confirms)")
async def close(
    request_id: UUID, uow: UnitOfWorkDep, who: Requester, response: Response, if_match: IfMatch = None
) -> RequestRead:
    return await _do(request_id, who, if_match, uow, response, lambda r, now: r.close(who.subject, now))


@router.post(REQUESTS + "/{request_id}/cancel", response_model=RequestRead)
async def cancel(
    request_id: UUID,
    body: Rejection,
    uow: UnitOfWorkDep,
    who: Requester,
    response: Response,
    if_match: IfMatch = None,
) -> RequestRead:
    """Cancel, saying why (the requester, or an agent)."""
    return await _do(
        request_id, who, if_match, uow, response, lambda r, now: r.cancel(who.subject, who.roles, now, body.reason)
    )


@router.get(REQUESTS + "/{request_id}/history", response_model=list[HistoryEntry])
async def history(request_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[HistoryEntry]:
    if await store.get_request(conn, request_id) is None:
        raise NotFound(f"request {request_id} does not exist")
    return [HistoryEntry.model_validate(r, from_attributes=True) for r in await store.history_of(conn, request_id)]


@router.get(REQUESTS + "/{request_id}/sla", response_model=list[ClockRead])
async def request_clocks(request_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[ClockRead]:
    """The request's SLA clocks (none when no policy applied to it)."""
    if await store.get_request(conn, request_id) is None:
        raise NotFound(f"request {request_id} does not exist")
    return [ClockRead.of(stored, due) for stored, due in await sla.clocks_of(conn, request_id)]
