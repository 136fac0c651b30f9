"""Service request routes: submit, read and list, and one endpoint per action."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.incident.api.deps import POLICY, Authorised, Caller, CurrentRequest
from services.incident.domain.requests import RequestStatus, ServiceRequest
from services.incident.schemas.requests import (
    Decision,
    Fulfilment,
    HistoryEntry,
    Rejection,
    RequestCreate,
    RequestPage,
    RequestRead,
    Start,
)
from services.incident.schemas.sla import ClockRead
from services.incident.store import requests
from services.incident.usecases import requests as usecases
from services.incident.usecases import sla
from services.incident.usecases.requests import Act
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import Principal
from shared.deps import IfMatch, Limit, Offset, optional_version
from shared.http import created, tagged

router = APIRouter(tags=["service requests"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""

REQUESTS = "/api/v1/requests"
# Who may approve is whoever holds the item's approver role, which may be any role of the identity
# provider: the domain checks it (and separation of duties); the table lets any role but a
# requester's reach it (a requester only their own, to be told why not).


@router.post(REQUESTS, status_code=201, response_model=RequestRead)
async def submit_request(body: RequestCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> RequestRead:
    """Submit a request from a catalogue item; you are its requester."""
    request = await usecases.submit_request(usecases.SubmitRequest(requester=who.subject, **body.model_dump()), uow)
    return created(response, f"{REQUESTS}/{request.id}", request.version, RequestRead.of(request))


@router.get(REQUESTS + "/{request_id}", response_model=RequestRead)
async def get_request(request: CurrentRequest, response: Response) -> RequestRead:
    return tagged(response, request.version, RequestRead.of(request))


@router.get(REQUESTS, response_model=RequestPage)
async def list_requests(
    conn: ReadConnectionDep,
    access: Authorised,
    status: RequestStatus | None = None,
    requester: Annotated[str | None, Query(max_length=200)] = None,
    assignment_group: Annotated[str | None, Query(max_length=100)] = None,
    catalogue_item_id: UUID | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="In the title, or a number")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RequestPage:
    """A requester sees only their own requests."""
    if access.only_own:
        if requester not in (None, access.principal.subject):
            return RequestPage(items=[], total=0, limit=limit, offset=offset)
        requester = access.principal.subject
    items, total = await requests.list_requests(
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


def _cmd(request_id: UUID, who: Principal, if_match: str | None) -> Act:
    return Act(request_id, who.subject, who.roles, optional_version(if_match))


def _answer(request: ServiceRequest, response: Response) -> RequestRead:
    return tagged(response, request.version, RequestRead.of(request))


@router.post(REQUESTS + "/{request_id}/approve", response_model=RequestRead)
async def approve(
    request_id: UUID, body: Decision, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> RequestRead:
    """Approve (the item's approver role; never your own request: 403)."""
    cmd = _cmd(request_id, who, if_match)
    return _answer(await usecases.approve_request(cmd, uow, reason=body.reason), response)


@router.post(REQUESTS + "/{request_id}/reject", response_model=RequestRead)
async def reject(
    request_id: UUID, body: Rejection, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> RequestRead:
    """Reject, saying why (the item's approver role; never your own request: 403)."""
    cmd = _cmd(request_id, who, if_match)
    return _answer(await usecases.reject_request(cmd, uow, reason=body.reason), response)


@router.post(REQUESTS + "/{request_id}/start", response_model=RequestRead)
async def start(
    request_id: UUID,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    body: Start | None = None,
    if_match: IfMatch = None,
) -> RequestRead:
    cmd = _cmd(request_id, who, if_match)
    assignee = body.assignee if body else None
    return _answer(await usecases.start_fulfilment(cmd, uow, assignee=assignee), response)


@router.post(REQUESTS + "/{request_id}/fulfil", response_model=RequestRead)
async def fulfil(
    request_id: UUID,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    body: Fulfilment | None = None,
    if_match: IfMatch = None,
) -> RequestRead:
    cmd = _cmd(request_id, who, if_match)
    notes = body.notes if body else ""
    return _answer(await usecases.fulfil_request(cmd, uow, notes=notes), response)


@router.post(REQUESTS + "/{request_id}/close", response_model=RequestRead, summary="Close (the requester confirms)")
async def close(
    request_id: UUID, uow: UnitOfWorkDep, who: Caller, response: Response, if_match: IfMatch = None
) -> RequestRead:
    return _answer(await usecases.close_request(_cmd(request_id, who, if_match), uow), response)


@router.post(REQUESTS + "/{request_id}/cancel", response_model=RequestRead)
async def cancel(
    request_id: UUID,
    body: Rejection,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: IfMatch = None,
) -> RequestRead:
    """Cancel, saying why (the requester, or an agent)."""
    cmd = _cmd(request_id, who, if_match)
    return _answer(await usecases.cancel_request(cmd, uow, reason=body.reason), response)


@router.get(REQUESTS + "/{request_id}/history", response_model=list[HistoryEntry])
async def history(conn: ReadConnectionDep, request: CurrentRequest) -> list[HistoryEntry]:
    return [HistoryEntry.model_validate(r, from_attributes=True) for r in await requests.history_of(conn, request.id)]


@router.get(REQUESTS + "/{request_id}/sla", response_model=list[ClockRead])
async def request_clocks(conn: ReadConnectionDep, request: CurrentRequest) -> list[ClockRead]:
    """The request's SLA clocks (none when no policy applied to it)."""
    return [ClockRead.of(stored, due) for stored, due in await sla.clocks_of(conn, request.id)]
