"""Schedule routes: put a change on the schedule, its conflicts, the schedule (JSON or iCalendar), blackouts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime

from services.change.api.changes import answer
from services.change.api.deps import POLICY, Caller, ChangeAction, CurrentChange, GovernanceDep
from services.change.domain.schedule import Blackout
from services.change.domain.schedule import Conflict as ScheduleConflict
from services.change.schemas.changes import ChangeRead
from services.change.schemas.schedule import (
    BlackoutCreate,
    BlackoutRead,
    ConflictRead,
    ScheduleEntry,
    ScheduleRead,
    schedule_ics,
)
from services.change.store.schedule import blackouts_between
from services.change.usecases import schedule as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.http import JSON_OR_ICALENDAR, representation

router = APIRouter(prefix="/api/v1/changes", tags=["changes"], dependencies=[Depends(POLICY.enforce)])
schedule_router = APIRouter(prefix="/api/v1", tags=["schedule"], dependencies=[Depends(POLICY.enforce)])


@router.post("/{change_id}/schedule", response_model=ChangeRead)
async def schedule(uow: UnitOfWorkDep, act: ChangeAction, response: Response, governance: GovernanceDep) -> ChangeRead:
    return answer(await usecases.schedule(act, uow, governance), response)


def _conflict(c: ScheduleConflict) -> ConflictRead:
    return ConflictRead(severity=c.severity.value, kind=c.kind, detail=c.detail, other=c.other, ci_ids=list(c.ci_ids))


def _blackout(b: Blackout) -> BlackoutRead:
    return BlackoutRead.from_record(b, ci_ids=sorted(b.ci_ids))


@router.get("/{change_id}/conflicts", response_model=list[ConflictRead])
async def change_conflicts(
    item: CurrentChange, conn: ReadConnectionDep, governance: GovernanceDep
) -> list[ConflictRead]:
    return [_conflict(c) for c in await usecases.conflicts_of(conn, item, governance)]


@schedule_router.get("/schedule", response_model=ScheduleRead, responses={200: {"content": {"text/calendar": {}}}})
async def change_schedule(
    request: Request,
    conn: ReadConnectionDep,
    governance: GovernanceDep,
    start: Annotated[AwareDatetime, Query(alias="from")],
    end: Annotated[AwareDatetime, Query(alias="to")],
    fmt: Annotated[Literal["json", "ics"], Query(alias="format")] = "json",
) -> Response | ScheduleRead:
    changes, blackouts = await usecases.schedule_between(conn, start, end)
    if representation(request, JSON_OR_ICALENDAR) == "ics":
        return Response(
            schedule_ics(changes, blackouts),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="change-schedule.ics"'},
        )
    entries = [
        ScheduleEntry(
            change=ChangeRead.of(c),
            conflicts=[_conflict(x) for x in await usecases.conflicts_of(conn, c, governance)],
        )
        for c in changes
    ]
    return ScheduleRead(start=start, end=end, changes=entries, blackouts=[_blackout(b) for b in blackouts])


@schedule_router.post("/blackouts", status_code=201, response_model=BlackoutRead)
async def create_blackout(body: BlackoutCreate, uow: UnitOfWorkDep, who: Caller) -> BlackoutRead:
    blackout = await usecases.add_blackout(
        name=body.name, start=body.start, end=body.end, ci_ids=body.ci_ids, actor=who.subject, uow=uow
    )
    return _blackout(blackout)


@schedule_router.get("/blackouts", response_model=list[BlackoutRead])
async def list_blackouts(
    conn: ReadConnectionDep,
    start: Annotated[AwareDatetime, Query(alias="from")],
    end: Annotated[AwareDatetime, Query(alias="to")],
) -> list[BlackoutRead]:
    return [_blackout(b) for b in await blackouts_between(conn, start, end)]
