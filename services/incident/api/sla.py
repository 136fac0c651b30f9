"""SLA routes: business-hours calendars, policies, and the clocks of a ticket."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Response

from services.incident.api.deps import POLICY, CurrentIncident
from services.incident.domain.sla import TicketKind
from services.incident.schemas.sla import CalendarRead, CalendarWrite, ClockRead, PolicyRead, PolicyWrite
from services.incident.store import sla as store
from services.incident.store import sla_calendars
from services.incident.usecases import sla as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import IfMatch, optional_version
from shared.errors import found
from shared.http import created, tagged

router = APIRouter(tags=["sla"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""


CALENDARS, POLICIES = "/api/v1/sla/calendars", "/api/v1/sla/policies"


def _calendar_input(body: CalendarWrite) -> usecases.CalendarInput:
    return usecases.CalendarInput(
        name=body.name,
        time_zone=body.time_zone,
        working_hours={day: (h.start, h.end) for day, h in body.working_hours.items()},
        holidays=body.holidays,
    )


@router.post(CALENDARS, status_code=201, response_model=CalendarRead)
async def create_calendar(body: CalendarWrite, uow: UnitOfWorkDep, response: Response) -> CalendarRead:
    record = await usecases.create_calendar(_calendar_input(body), uow)
    return created(response, f"{CALENDARS}/{record.id}", record.version, CalendarRead.of(record))


@router.get(CALENDARS, response_model=list[CalendarRead])
async def list_calendars(conn: ReadConnectionDep) -> list[CalendarRead]:
    return [CalendarRead.of(r) for r in await sla_calendars.list_calendars(conn)]


@router.get(CALENDARS + "/{calendar_id}", response_model=CalendarRead)
async def get_calendar(calendar_id: UUID, conn: ReadConnectionDep, response: Response) -> CalendarRead:
    record = found(await sla_calendars.get_calendar(conn, calendar_id), f"calendar {calendar_id}")
    return tagged(response, record.version, CalendarRead.of(record))


@router.put(CALENDARS + "/{calendar_id}", response_model=CalendarRead)
async def replace_calendar(
    calendar_id: UUID,
    body: CalendarWrite,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> CalendarRead:
    record = await usecases.replace_calendar(calendar_id, _calendar_input(body), optional_version(if_match), uow)
    return tagged(response, record.version, CalendarRead.of(record))


@router.delete(CALENDARS + "/{calendar_id}", status_code=204)
async def delete_calendar(calendar_id: UUID, uow: UnitOfWorkDep, if_match: IfMatch = None) -> Response:
    await usecases.delete_calendar(calendar_id, optional_version(if_match), uow)
    return Response(status_code=204)


@router.post(POLICIES, status_code=201, response_model=PolicyRead)
async def create_policy(body: PolicyWrite, uow: UnitOfWorkDep, response: Response) -> PolicyRead:
    record = await usecases.create_policy(body.to_domain, uow)
    return created(response, f"{POLICIES}/{record.policy.id}", record.policy.version, PolicyRead.of(record))


@router.get(POLICIES, response_model=list[PolicyRead])
async def list_policies(
    conn: ReadConnectionDep, ticket_kind: TicketKind | None = None, service_id: UUID | None = None
) -> list[PolicyRead]:
    records = await store.list_policies(
        conn, ticket_kind=ticket_kind.value if ticket_kind else None, service_id=service_id
    )
    return [PolicyRead.of(r) for r in records]


@router.get(POLICIES + "/{policy_id}", response_model=PolicyRead)
async def get_policy(policy_id: UUID, conn: ReadConnectionDep, response: Response) -> PolicyRead:
    record = found(await store.get_policy(conn, policy_id), f"SLA policy {policy_id}")
    return tagged(response, record.policy.version, PolicyRead.of(record))


@router.put(POLICIES + "/{policy_id}", response_model=PolicyRead)
async def replace_policy(
    policy_id: UUID,
    body: PolicyWrite,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> PolicyRead:
    record = await usecases.replace_policy(policy_id, body.to_domain, optional_version(if_match), uow)
    return tagged(response, record.policy.version, PolicyRead.of(record))


@router.delete(POLICIES + "/{policy_id}", status_code=204)
async def delete_policy(policy_id: UUID, uow: UnitOfWorkDep, if_match: IfMatch = None) -> Response:
    await usecases.delete_policy(policy_id, optional_version(if_match), uow)
    return Response(status_code=204)


async def _clocks(conn: ReadConnectionDep, ticket_id: UUID) -> list[ClockRead]:
    return [ClockRead.of(stored, due) for stored, due in await usecases.clocks_of(conn, ticket_id)]


@router.get(
    "/api/v1/incidents/{incident_id}/sla",
    response_model=list[ClockRead],
    tags=["incidents"],
)
async def incident_clocks(conn: ReadConnectionDep, incident: CurrentIncident) -> list[ClockRead]:
    """The incident's SLA clocks (none when no policy applied to it)."""
    return await _clocks(conn, incident.id)
