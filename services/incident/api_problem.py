"""Problem management routes (ISO/IEC 20000-1 8.2): problems and their lifecycle, the known
error database, trends, and an incident's links to changes. Thin: validate, call, return."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response

from services.incident import store, store_problem, usecases_problem
from services.incident.domain_problem import KnownErrorStatus, Problem, ProblemOrigin, ProblemStatus
from services.incident.schemas_problem import (
    CategoryTrend,
    ChangeLink,
    ChangeLinkRead,
    CITrend,
    IncidentLinks,
    Investigate,
    KnownErrorCreate,
    KnownErrorPage,
    KnownErrorRead,
    ProblemClose,
    ProblemCreate,
    ProblemHistoryEntry,
    ProblemIncidentLink,
    ProblemPage,
    ProblemRead,
    ProblemReason,
    ProblemResolve,
    ProblemUpdate,
    PublishKnownError,
    Trends,
)
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.auth import READ_ROLES, Principal, Role, require_roles
from shared.errors import NotFound
from shared.http import etag, expected_version

router = APIRouter(prefix="/api/v1/problems", tags=["problems"])
known_errors_router = APIRouter(prefix="/api/v1/known-errors", tags=["known errors"])
incident_links_router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Manager = Annotated[Principal, Depends(require_roles(Role.PROBLEM_MANAGER))]
IfMatch = Annotated[str | None, Header(description='The ETag read, e.g. W/"3" (optional)')]
Text = Annotated[str | None, Query(min_length=1, max_length=200, description="Words in the text, or a number")]
CategoryQuery = Annotated[str | None, Query(min_length=1, max_length=100)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]


# Before `/{problem_id}`: "trends" is not a UUID.
@router.get("/trends", response_model=Trends, summary="Top recurring CIs and categories")
async def trends(
    conn: ReadConnectionDep,
    _: Reader,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Trends:
    since = datetime.now(UTC) - timedelta(days=days)
    found = await store_problem.trends(conn, since, limit)
    return Trends(
        days=days,
        since=since,
        cis=[CITrend(ci_id=r.ci_id, incidents=r.incidents) for r in found["cis"]],
        categories=[
            CategoryTrend(category=r.category, service_id=r.service_id, incidents=r.incidents)
            for r in found["categories"]
        ],
    )


@router.post("", status_code=201, response_model=ProblemRead)
async def open_problem(body: ProblemCreate, uow: UnitOfWorkDep, who: Manager, response: Response) -> ProblemRead:
    problem = await usecases_problem.open_problem(
        usecases_problem.OpenProblem(actor=who.subject, **body.model_dump()), uow
    )
    response.headers["Location"] = f"{router.prefix}/{problem.id}"
    response.headers["ETag"] = etag(problem.version)
    return ProblemRead.of(problem)


@router.get("", response_model=ProblemPage)
async def list_problems(
    conn: ReadConnectionDep,
    _: Reader,
    status: ProblemStatus | None = None,
    origin: ProblemOrigin | None = None,
    ci_id: UUID | None = None,
    service_id: UUID | None = None,
    category: CategoryQuery = None,
    q: Text = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProblemPage:
    items, total = await store_problem.list_problems(
        conn,
        status=status.value if status else None,
        ci_id=ci_id,
        service_id=service_id,
        category=category,
        origin=origin.value if origin else None,
        text_query=q,
        limit=limit,
        offset=offset,
    )
    return ProblemPage(items=[ProblemRead.of(p) for p in items], total=total, limit=limit, offset=offset)


@router.get("/{problem_id}", response_model=ProblemRead)
async def get_problem(problem_id: UUID, conn: ReadConnectionDep, _: Reader, response: Response) -> ProblemRead:
    problem = await store_problem.get_problem(conn, problem_id)
    if problem is None:
        raise NotFound(f"problem {problem_id} does not exist")
    response.headers["ETag"] = etag(problem.version)
    return ProblemRead.of(problem)


@router.get("/{problem_id}/history", response_model=list[ProblemHistoryEntry])
async def problem_history(problem_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[ProblemHistoryEntry]:
    if await store_problem.get_problem(conn, problem_id) is None:
        raise NotFound(f"problem {problem_id} does not exist")
    rows = await store_problem.problem_history_of(conn, problem_id)
    return [ProblemHistoryEntry.model_validate(r, from_attributes=True) for r in rows]


@router.get("/{problem_id}/incidents", response_model=list[ProblemIncidentLink])
async def problem_incidents(problem_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[ProblemIncidentLink]:
    if await store_problem.get_problem(conn, problem_id) is None:
        raise NotFound(f"problem {problem_id} does not exist")
    rows = await store_problem.links_of(conn, problem_id)
    return [ProblemIncidentLink.model_validate(r, from_attributes=True) for r in rows]


async def _do(
    problem_id: UUID,
    who: Principal,
    if_match: str | None,
    uow: UnitOfWorkDep,
    response: Response,
    apply: Callable[[Problem, datetime], None],
) -> ProblemRead:
    cmd = usecases_problem.ActOnProblem(problem_id, who.subject, expected_version(if_match) if if_match else None)
    problem = await usecases_problem.act_on_problem(cmd, uow, apply)
    response.headers["ETag"] = etag(problem.version)
    return ProblemRead.of(problem)


@router.patch("/{problem_id}", response_model=ProblemRead, summary="Edit fields (root cause, workaround, ...)")
async def update_problem(
    problem_id: UUID,
    body: ProblemUpdate,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> ProblemRead:
    changes = body.changes()
    return await _do(
        problem_id, who, if_match, uow, response, lambda p, now: p.update(changes, who.subject, now, body.reason)
    )


@router.post("/{problem_id}/investigate", response_model=ProblemRead)
async def investigate(
    problem_id: UUID,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    body: Investigate | None = None,
    if_match: IfMatch = None,
) -> ProblemRead:
    owner = body.owner if body else None
    return await _do(problem_id, who, if_match, uow, response, lambda p, now: p.investigate(who.subject, now, owner))


@router.post(
    "/{problem_id}/known-error", response_model=ProblemRead, summary="Publish as a known error (root cause, workaround)"
)
async def publish_known_error(
    problem_id: UUID,
    body: PublishKnownError,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> ProblemRead:
    apply = usecases_problem.publish_known_error(body.root_cause, body.workaround, who.subject)
    return await _do(problem_id, who, if_match, uow, response, apply)


@router.post("/{problem_id}/change", response_model=ProblemRead, summary="Link the change raised to fix it")
async def link_change(
    problem_id: UUID, body: ChangeLink, uow: UnitOfWorkDep, who: Manager, response: Response, if_match: IfMatch = None
) -> ProblemRead:
    return await _do(
        problem_id,
        who,
        if_match,
        uow,
        response,
        lambda p, now: p.link_change(body.change_id, body.change_number, who.subject, now, body.reason),
    )


@router.post("/{problem_id}/incidents", response_model=ProblemRead, summary="Link incidents by hand")
async def link_incidents(
    problem_id: UUID,
    body: IncidentLinks,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> ProblemRead:
    cmd = usecases_problem.LinkIncidents(
        problem_id, body.incident_ids, who.subject, expected_version(if_match) if if_match else None
    )
    problem = await usecases_problem.link_incidents(cmd, uow)
    response.headers["ETag"] = etag(problem.version)
    return ProblemRead.of(problem)


@router.post("/{problem_id}/resolve", response_model=ProblemRead)
async def resolve(
    problem_id: UUID,
    body: ProblemResolve,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> ProblemRead:
    return await _do(
        problem_id,
        who,
        if_match,
        uow,
        response,
        lambda p, now: p.resolve(resolution=body.resolution, actor=who.subject, now=now),
    )


@router.post("/{problem_id}/reopen", response_model=ProblemRead)
async def reopen(
    problem_id: UUID,
    body: ProblemReason,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> ProblemRead:
    return await _do(problem_id, who, if_match, uow, response, lambda p, now: p.reopen(body.reason, who.subject, now))


@router.post("/{problem_id}/close", response_model=ProblemRead)
async def close(
    problem_id: UUID,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    body: ProblemClose | None = None,
    if_match: IfMatch = None,
) -> ProblemRead:
    reason = body.reason if body else ""
    return await _do(problem_id, who, if_match, uow, response, lambda p, now: p.close(who.subject, now, reason))


@router.post("/{problem_id}/cancel", response_model=ProblemRead)
async def cancel(
    problem_id: UUID,
    body: ProblemReason,
    uow: UnitOfWorkDep,
    who: Manager,
    response: Response,
    if_match: IfMatch = None,
) -> ProblemRead:
    return await _do(problem_id, who, if_match, uow, response, lambda p, now: p.cancel(body.reason, who.subject, now))


# ---------------------------------------------------------------------------- the known error database


@known_errors_router.get("", response_model=KnownErrorPage)
async def search_known_errors(
    conn: ReadConnectionDep,
    _: Reader,
    q: Text = None,
    ci_id: UUID | None = None,
    service_id: UUID | None = None,
    category: CategoryQuery = None,
    status: KnownErrorStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> KnownErrorPage:
    items, total = await store_problem.search_known_errors(
        conn,
        text_query=q,
        ci_id=ci_id,
        service_id=service_id,
        category=category,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )
    return KnownErrorPage(items=[KnownErrorRead.of(k) for k in items], total=total, limit=limit, offset=offset)


@known_errors_router.post("", status_code=201, response_model=KnownErrorRead)
async def record_known_error(
    body: KnownErrorCreate, uow: UnitOfWorkDep, who: Manager, response: Response
) -> KnownErrorRead:
    record = await usecases_problem.record_known_error(
        usecases_problem.RecordKnownError(actor=who.subject, **body.model_dump()), uow
    )
    response.headers["Location"] = f"{known_errors_router.prefix}/{record.id}"
    return KnownErrorRead.of(record)


@known_errors_router.get("/{known_error_id}", response_model=KnownErrorRead)
async def get_known_error(known_error_id: UUID, conn: ReadConnectionDep, _: Reader) -> KnownErrorRead:
    record = await store_problem.get_known_error(conn, known_error_id)
    if record is None:
        raise NotFound(f"known error {known_error_id} does not exist")
    return KnownErrorRead.of(record)


@known_errors_router.post("/{known_error_id}/retire", response_model=KnownErrorRead)
async def retire_known_error(known_error_id: UUID, uow: UnitOfWorkDep, _: Manager) -> KnownErrorRead:
    return KnownErrorRead.of(await usecases_problem.retire_known_error(known_error_id, uow))


# ---------------------------------------------------------------------------- an incident's change links


@incident_links_router.get("/{incident_id}/change-links", response_model=list[ChangeLinkRead])
async def change_links(incident_id: UUID, conn: ReadConnectionDep, _: Reader) -> list[ChangeLinkRead]:
    if await store.get_incident(conn, incident_id) is None:
        raise NotFound(f"incident {incident_id} does not exist")
    rows = await store_problem.change_links_of(conn, incident_id)
    return [ChangeLinkRead.model_validate(r, from_attributes=True) for r in rows]
