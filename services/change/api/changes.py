"""Change routes: validate, call the use case, return a schema."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import AwareDatetime

from services.change import store, usecases
from services.change.calendar import schedule_ics
from services.change.delivery import usecases as delivery_usecases
from services.change.delivery.schemas import template_change_request
from services.change.design import ServiceLevelTarget
from services.change.domain import Change, ChangeStatus, ChangeType
from services.change.schedule import Blackout
from services.change.schedule import Conflict as ScheduleConflict
from services.change.schemas import (
    Assessment,
    BlackoutCreate,
    BlackoutRead,
    ChangeCreate,
    ChangePage,
    ChangeRead,
    ConflictRead,
    Decision,
    DesignRead,
    DesignWrite,
    Failure,
    GoLive,
    MaintenanceWindowRead,
    MaintenanceWindowWrite,
    Review,
    ScheduleEntry,
    ScheduleRead,
)
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import NotFound, RuleViolation
from shared.http import etag, expected_version

router = APIRouter(prefix="/api/v1/changes", tags=["changes"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]


def _governance(request: Request) -> usecases.Governance:
    governance: usecases.Governance = request.app.state.governance
    return governance


GovernanceDep = Annotated[usecases.Governance, Depends(_governance)]
Requester = Annotated[Principal, Depends(require_roles(Role.REQUESTER, Role.CHANGE_MANAGER))]


@router.post("", status_code=201, response_model=ChangeRead)
async def create_change(
    body: ChangeCreate, uow: UnitOfWorkDep, caller: Requester, response: Response, governance: GovernanceDep
) -> ChangeRead:
    if body.template_id is not None:
        item = await delivery_usecases.change_from_template(
            body.template_id, template_change_request(body), requester=caller.subject, uow=uow, governance=governance
        )
        response.headers["Location"] = f"{router.prefix}/{item.id}"
        response.headers["ETag"] = f'W/"{item.version}"'
        return ChangeRead.of(item)
    fields = body.model_dump(
        exclude={"type", "affected_ci_ids", "planned_ci_changes", "service_ids", "template_id", "title"}
    )
    cmd = usecases.DraftChange(
        **fields,
        title=body.title or "",
        change_type=body.type,
        affected_ci_ids=tuple(body.affected_ci_ids),
        service_ids=tuple(body.service_ids),
        requester=caller.subject,
        planned_ci_changes=tuple(c.model_dump(mode="json", exclude_none=True) for c in body.planned_ci_changes),
    )
    item = await usecases.draft_change(cmd, uow, governance)
    response.headers["Location"] = f"{router.prefix}/{item.id}"
    response.headers["ETag"] = f'W/"{item.version}"'
    return ChangeRead.of(item)


@router.get("/{change_id}", response_model=ChangeRead)
async def get_change(change_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> ChangeRead:
    item = await store.get_change(conn, change_id)
    if item is None:
        raise NotFound(f"change {change_id} does not exist")
    response.headers["ETag"] = f'W/"{item.version}"'
    return ChangeRead.of(item)


@router.get("", response_model=ChangePage)
async def list_changes(
    conn: ReadConnectionDep,
    _: Reader,
    status: ChangeStatus | None = None,
    change_type: Annotated[ChangeType | None, Query(alias="type")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ChangePage:
    items, total = await store.list_changes(
        conn,
        status=status.value if status else None,
        change_type=change_type.value if change_type else None,
        limit=limit,
        offset=offset,
    )
    return ChangePage(items=[ChangeRead.of(c) for c in items], total=total, limit=limit, offset=offset)


# ---------------------------------------------------------------------------- the lifecycle

Manager = Annotated[Principal, Depends(require_roles(Role.CHANGE_MANAGER))]
Approver = Annotated[Principal, Depends(require_roles(Role.CHANGE_MANAGER, Role.CAB_MEMBER))]
IfMatch = Annotated[str | None, Header(description='The ETag read, e.g. W/"3" (optional)')]


def _act(change_id: UUID, who: Principal, if_match: str | None) -> usecases.Act:
    return usecases.Act(change_id, who.subject, who.roles, expected_version(if_match) if if_match else None)


def _answer(item: Change, response: Response) -> ChangeRead:
    response.headers["ETag"] = etag(item.version)
    return ChangeRead.of(item)


@router.post("/{change_id}/submit", response_model=ChangeRead)
async def submit(
    change_id: UUID, uow: UnitOfWorkDep, who: Requester, response: Response, if_match: IfMatch = None
) -> ChangeRead:
    return _answer(await usecases.submit(_act(change_id, who, if_match), uow), response)


@router.post("/{change_id}/assess", response_model=ChangeRead)
async def assess(
    change_id: UUID,
    body: Assessment,
    uow: UnitOfWorkDep,
    who: Manager,
    request: Request,
    response: Response,
    governance: GovernanceDep,
    if_match: IfMatch = None,
) -> ChangeRead:
    impact = request.app.state.impact
    act = _act(change_id, who, if_match)
    return _answer(await usecases.assess(act, body.risk, uow, impact, governance), response)


@router.post("/{change_id}/approve", response_model=ChangeRead)
async def approve(
    change_id: UUID,
    uow: UnitOfWorkDep,
    who: Approver,
    response: Response,
    body: Decision | None = None,
    if_match: IfMatch = None,
) -> ChangeRead:
    comment = body.comment if body else ""
    return _answer(
        await usecases.decide(_act(change_id, who, if_match), approve=True, comment=comment, uow=uow), response
    )


@router.post("/{change_id}/reject", response_model=ChangeRead)
async def reject(
    change_id: UUID, body: Decision, uow: UnitOfWorkDep, who: Approver, response: Response, if_match: IfMatch = None
) -> ChangeRead:
    act = _act(change_id, who, if_match)
    return _answer(await usecases.decide(act, approve=False, comment=body.comment, uow=uow), response)


@router.post("/{change_id}/schedule", response_model=ChangeRead)
async def schedule(
    change_id: UUID,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    governance: GovernanceDep,
    if_match: IfMatch = None,
) -> ChangeRead:
    return _answer(await usecases.schedule(_act(change_id, who, if_match), uow, governance), response)


@router.post("/{change_id}/start", response_model=ChangeRead)
async def start(
    change_id: UUID, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ChangeRead:
    return _answer(await usecases.start(_act(change_id, who, if_match), uow), response)


@router.post("/{change_id}/complete", response_model=ChangeRead)
async def complete(
    change_id: UUID, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ChangeRead:
    return _answer(await usecases.complete(_act(change_id, who, if_match), uow), response)


@router.post("/{change_id}/fail", response_model=ChangeRead)
async def fail(
    change_id: UUID, body: Failure, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ChangeRead:
    act = _act(change_id, who, if_match)
    return _answer(await usecases.fail(act, body.notes, uow, backed_out=body.backed_out), response)


@router.post("/{change_id}/review", response_model=ChangeRead)
async def review(
    change_id: UUID, body: Review, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ChangeRead:
    act = _act(change_id, who, if_match)
    reviewed = await usecases.review(act, body.outcome, uow, lessons=body.lessons, objectives_met=body.objectives_met)
    return _answer(reviewed, response)


@router.post("/{change_id}/close", response_model=ChangeRead)
async def close(
    change_id: UUID, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ChangeRead:
    return _answer(await usecases.close(_act(change_id, who, if_match), uow), response)


@router.post("/{change_id}/cancel", response_model=ChangeRead)
async def cancel(
    change_id: UUID, uow: UnitOfWorkDep, who: Requester, response: Response, if_match: IfMatch = None
) -> ChangeRead:
    return _answer(await usecases.cancel(_act(change_id, who, if_match), uow), response)


# ---------------------------------------------------------------------------- design and transition (clause 5)


def _design_of(item: Change, response: Response) -> DesignRead:
    if item.design is None:
        raise NotFound(f"{item.number} has no design and transition record")
    response.headers["ETag"] = etag(item.version)
    return DesignRead.of(item.design)


@router.put("/{change_id}/design", response_model=DesignRead)
async def put_design(
    change_id: UUID, body: DesignWrite, uow: UnitOfWorkDep, who: Requester, response: Response, if_match: IfMatch = None
) -> DesignRead:
    """The design and transition record (requirements, acceptance criteria, service level targets,
    capacity), written whole; settled once the change is approved or rejected."""
    design = usecases.DesignInput(
        requirements=body.requirements,
        acceptance_criteria=tuple(body.acceptance_criteria),
        service_level_targets=tuple(ServiceLevelTarget(t.metric, t.target) for t in body.service_level_targets),
        capacity=body.capacity,
    )
    item = await usecases.record_design(_act(change_id, who, if_match), design, uow)
    return _design_of(item, response)


@router.get("/{change_id}/design", response_model=DesignRead)
async def get_design(change_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> DesignRead:
    item = await store.get_change(conn, change_id)
    if item is None:
        raise NotFound(f"change {change_id} does not exist")
    return _design_of(item, response)


@router.post("/{change_id}/go-live", response_model=ChangeRead)
async def go_live(
    change_id: UUID, body: GoLive, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ChangeRead:
    """5.4: after implementation, whether the service met its acceptance criteria (needed before close)."""
    act = _act(change_id, who, if_match)
    return _answer(await usecases.accept_go_live(act, accepted=body.accepted, comment=body.comment, uow=uow), response)


# ---------------------------------------------------------------------------- the schedule

schedule_router = APIRouter(prefix="/api/v1", tags=["schedule"])


def _conflict(c: ScheduleConflict) -> ConflictRead:
    return ConflictRead(severity=c.severity.value, kind=c.kind, detail=c.detail, other=c.other, ci_ids=list(c.ci_ids))


def _blackout(b: Blackout) -> BlackoutRead:
    return BlackoutRead(id=b.id, name=b.name, start=b.start, end=b.end, ci_ids=sorted(b.ci_ids))


@router.get("/{change_id}/conflicts", response_model=list[ConflictRead])
async def change_conflicts(
    change_id: UUID, conn: ReadConnectionDep, _: Reader, governance: GovernanceDep
) -> list[ConflictRead]:
    item = await store.get_change(conn, change_id)
    if item is None:
        raise NotFound(f"change {change_id} does not exist")
    return [_conflict(c) for c in await usecases.conflicts_of(conn, item, governance)]


@schedule_router.get("/schedule", response_model=ScheduleRead, responses={200: {"content": {"text/calendar": {}}}})
async def change_schedule(
    conn: ReadConnectionDep,
    _: Reader,
    governance: GovernanceDep,
    start: Annotated[AwareDatetime, Query(alias="from")],
    end: Annotated[AwareDatetime, Query(alias="to")],
    fmt: Annotated[Literal["json", "ics"], Query(alias="format")] = "json",
) -> Response | ScheduleRead:
    if end <= start:
        raise RuleViolation("'to' must come after 'from'", field="to")
    if end - start > timedelta(days=366):
        raise RuleViolation("ask for at most a year at a time", field="to")
    changes = await store.scheduled_changes(conn, start, end)
    blackouts = await store.blackouts_between(conn, start, end)
    if fmt == "ics":
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
async def create_blackout(body: BlackoutCreate, uow: UnitOfWorkDep, who: Manager) -> BlackoutRead:
    blackout = await usecases.add_blackout(
        name=body.name, start=body.start, end=body.end, ci_ids=body.ci_ids, actor=who.subject, uow=uow
    )
    return _blackout(blackout)


@schedule_router.get("/blackouts", response_model=list[BlackoutRead])
async def list_blackouts(
    conn: ReadConnectionDep,
    _: Reader,
    start: Annotated[AwareDatetime, Query(alias="from")],
    end: Annotated[AwareDatetime, Query(alias="to")],
) -> list[BlackoutRead]:
    return [_blackout(b) for b in await store.blackouts_between(conn, start, end)]


# ---------------------------------------------------------------------------- maintenance windows


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
    body: MaintenanceWindowWrite, uow: UnitOfWorkDep, who: Manager, response: Response, governance: GovernanceDep
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
    conn: ReadConnectionDep, _: Reader, service_id: UUID | None = None
) -> list[MaintenanceWindowRead]:
    found = await store.maintenance_windows(conn, None if service_id is None else [service_id])
    return [MaintenanceWindowRead.of(w) for windows in found.values() for w in windows]


@schedule_router.get("/maintenance-windows/{window_id}", response_model=MaintenanceWindowRead)
async def get_maintenance_window(window_id: UUID, conn: ReadConnectionDep, _: Reader) -> MaintenanceWindowRead:
    window = await store.get_maintenance_window(conn, window_id)
    if window is None:
        raise NotFound(f"maintenance window {window_id} does not exist")
    return MaintenanceWindowRead.of(window)


@schedule_router.put("/maintenance-windows/{window_id}", response_model=MaintenanceWindowRead)
async def replace_maintenance_window(
    window_id: UUID, body: MaintenanceWindowWrite, uow: UnitOfWorkDep, _: Manager, governance: GovernanceDep
) -> MaintenanceWindowRead:
    window = await usecases.replace_maintenance_window(window_id, _window_input(body), uow=uow, governance=governance)
    return MaintenanceWindowRead.of(window)


@schedule_router.delete("/maintenance-windows/{window_id}", status_code=204)
async def delete_maintenance_window(window_id: UUID, uow: UnitOfWorkDep, _: Manager) -> Response:
    await usecases.delete_maintenance_window(window_id, uow=uow)
    return Response(status_code=204)
