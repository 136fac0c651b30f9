"""SLA routes: business-hours calendars, policies, and the clocks of a ticket."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Response

from services.incident import store as incident_store
from services.incident.sla import store, usecases
from services.incident.sla.domain import TicketKind
from services.incident.sla.schemas import CalendarRead, CalendarWrite, ClockRead, PolicyRead, PolicyWrite
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import NotFound
from shared.http import etag, expected_version

router = APIRouter(tags=["sla"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Manager = Annotated[Principal, Depends(require_roles(Role.SERVICE_LEVEL_MANAGER))]
IfMatch = Annotated[str | None, Header(description='The ETag read, e.g. W/"3" (optional)')]

CALENDARS, POLICIES = "/api/v1/sla/calendars", "/api/v1/sla/policies"


def _version(if_match: str | None) -> int | None:
    return expected_version(if_match) if if_match else None


def _calendar_input(body: CalendarWrite) -> usecases.CalendarInput:
    return usecases.CalendarInput(
        name=body.name,
        time_zone=body.time_zone,
        working_hours={day: (h.start, h.end) for day, h in body.working_hours.items()},
        holidays=body.holidays,
    )


@router.post(CALENDARS, status_code=201, response_model=CalendarRead)
async def create_calendar(body: CalendarWrite, uow: UnitOfWorkDep, _: Manager, response: Response) -> CalendarRead:
    record = await usecases.create_calendar(_calendar_input(body), uow)
    response.headers["Location"] = f"{CALENDARS}/{record.id}"
    response.headers["ETag"] = etag(record.version)
    return CalendarRead.of(record)


@router.get(CALENDARS, response_model=list[CalendarRead])
async def list_calendars(conn: ReadConnectionDep, _: Reader) -> list[CalendarRead]:
    return [CalendarRead.of(r) for r in await store.list_calendars(conn)]


@router.get(CALENDARS + "/{calendar_id}", response_model=CalendarRead)
async def get_calendar(calendar_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> CalendarRead:
    record = await store.get_calendar(conn, calendar_id)
    if record is None:
        raise NotFound(f"calendar {calendar_id} does not exist")
    response.headers["ETag"] = etag(record.version)
    return CalendarRead.of(record)


@router.put(CALENDARS + "/{calendar_id}", response_model=CalendarRead)
async def replace_calendar(
    calendar_id: UUID, body: CalendarWrite, uow: UnitOfWorkDep, _: Manager, response: Response, if_match: IfMatch = None
) -> CalendarRead:
    record = await usecases.replace_calendar(calendar_id, _calendar_input(body), _version(if_match), uow)
    response.headers["ETag"] = etag(record.version)
    return CalendarRead.of(record)


@router.delete(CALENDARS + "/{calendar_id}", status_code=204)
async def delete_calendar(calendar_id: UUID, uow: UnitOfWorkDep, _: Manager, if_match: IfMatch = None) -> Response:
    await usecases.delete_calendar(calendar_id, _version(if_match), uow)
    return Response(status_code=204)


@router.post(POLICIES, status_code=201, response_model=PolicyRead)
async def create_policy(body: PolicyWrite, uow: UnitOfWorkDep, _: Manager, response: Response) -> PolicyRead:
    record = await usecases.create_policy(body.to_domain, uow)
    response.headers["Location"] = f"{POLICIES}/{record.policy.id}"
    response.headers["ETag"] = etag(record.policy.version)
    return PolicyRead.of(record)


@router.get(POLICIES, response_model=list[PolicyRead])
async def list_policies(
    conn: ReadConnectionDep, _: Reader, ticket_kind: TicketKind | None = None, service_id: UUID | None = None
) -> list[PolicyRead]:
    records = await store.list_policies(
        conn, ticket_kind=ticket_kind.value if ticket_kind else None, service_id=service_id
    )
    return [PolicyRead.of(r) for r in records]


@router.get(POLICIES + "/{policy_id}", response_model=PolicyRead)
async def get_policy(policy_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> PolicyRead:
    record = await store.get_policy(conn, policy_id)
    if record is None:
        raise NotFound(f"SLA policy {policy_id} does not exist")
    response.headers["ETag"] = etag(record.policy.version)
    return PolicyRead.of(record)


@router.put(POLICIES + "/{policy_id}", response_model=PolicyRead)
async def replace_policy(
    policy_id: UUID, body: PolicyWrite, uow: UnitOfWorkDep, _: Manager, response: Response, if_match: IfMatch = None
) -> PolicyRead:
    record = await usecases.replace_policy(policy_id, body.to_domain, _version(if_match), uow)
    response.headers["ETag"] = etag(record.policy.version)
    return PolicyRead.of(record)


@router.delete(POLICIES + "/{policy_id}", status_code=204)
async def delete_policy(policy_id: UUID, uow: UnitOfWorkDep, _: Manager, if_match: IfMatch = None) -> Response:
    await usecases.delete_policy(policy_id, _version(if_match), uow)
    return Response(status_code=204)


async def _clocks(conn: ReadConnectionDep, ticket_id: UUID) -> list[ClockRead]:
    return [ClockRead.of(stored, due) for stored, due in await usecases.clocks_of(conn, ticket_id)]


@router.get("/api/v1/incidents/{incident_id}/sla", response_model=list[ClockRead], tags=["incidents"])
async def incident_clocks(incident_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[ClockRead]:
    """The incident's SLA clocks (none when no policy applied to it)."""
    if await incident_store.get_incident(conn, incident_id) is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return await _clocks(conn, incident_id)
