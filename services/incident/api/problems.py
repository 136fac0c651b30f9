"""Problem management routes (ISO/IEC 20000-1 8.2): problems and their lifecycle, trends, and an
incident's links to changes. Thin: validate, call the use case, return a schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.incident.api.deps import POLICY, Caller, CurrentIncident, CurrentProblem, ProblemAction
from services.incident.domain.problems import Problem, ProblemOrigin, ProblemStatus
from services.incident.schemas.problems import (
    CategoryTrend,
    ChangeLink,
    ChangeLinkRead,
    CITrend,
    IncidentLinks,
    Investigate,
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
from services.incident.store import analysis, problems
from services.incident.usecases import problems as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset
from shared.http import created, tagged

router = APIRouter(prefix="/api/v1/problems", tags=["problems"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""
incident_links_router = APIRouter(
    prefix="/api/v1/incidents", tags=["incidents"], dependencies=[Depends(POLICY.enforce)]
)

Text = Annotated[str | None, Query(min_length=1, max_length=200, description="Words in the text, or a number")]
CategoryQuery = Annotated[str | None, Query(min_length=1, max_length=100)]


# Before `/{problem_id}`: "trends" is not a UUID.
@router.get("/trends", response_model=Trends, summary="Top recurring CIs and categories")
async def trends(
    conn: ReadConnectionDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Trends:
    since = datetime.now(UTC) - timedelta(days=days)
    found = await analysis.trends(conn, since, limit)
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
async def open_problem(body: ProblemCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> ProblemRead:
    problem = await usecases.open_problem(usecases.OpenProblem(actor=who.subject, **body.model_dump()), uow)
    return created(response, f"{router.prefix}/{problem.id}", problem.version, ProblemRead.of(problem))


@router.get("", response_model=ProblemPage)
async def list_problems(
    conn: ReadConnectionDep,
    status: ProblemStatus | None = None,
    origin: ProblemOrigin | None = None,
    ci_id: UUID | None = None,
    service_id: UUID | None = None,
    category: CategoryQuery = None,
    q: Text = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProblemPage:
    items, total = await problems.list_problems(
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
async def get_problem(problem: CurrentProblem, response: Response) -> ProblemRead:
    return tagged(response, problem.version, ProblemRead.of(problem))


@router.get("/{problem_id}/history", response_model=list[ProblemHistoryEntry])
async def problem_history(conn: ReadConnectionDep, problem: CurrentProblem) -> list[ProblemHistoryEntry]:
    rows = await problems.problem_history_of(conn, problem.id)
    return [ProblemHistoryEntry.model_validate(r, from_attributes=True) for r in rows]


@router.get("/{problem_id}/incidents", response_model=list[ProblemIncidentLink])
async def problem_incidents(conn: ReadConnectionDep, problem: CurrentProblem) -> list[ProblemIncidentLink]:
    rows = await problems.links_of(conn, problem.id)
    return [ProblemIncidentLink.model_validate(r, from_attributes=True) for r in rows]


def _answer(problem: Problem, response: Response) -> ProblemRead:
    return tagged(response, problem.version, ProblemRead.of(problem))


@router.patch("/{problem_id}", response_model=ProblemRead, summary="Edit fields (root cause, workaround, ...)")
async def update_problem(
    body: ProblemUpdate, uow: UnitOfWorkDep, cmd: ProblemAction, response: Response
) -> ProblemRead:
    return _answer(await usecases.update_problem(cmd, uow, changes=body.changes(), reason=body.reason), response)


@router.post("/{problem_id}/investigate", response_model=ProblemRead)
async def investigate(
    uow: UnitOfWorkDep, cmd: ProblemAction, response: Response, body: Investigate | None = None
) -> ProblemRead:
    return _answer(await usecases.investigate_problem(cmd, uow, owner=body.owner if body else None), response)


@router.post(
    "/{problem_id}/known-error", response_model=ProblemRead, summary="Publish as a known error (root cause, workaround)"
)
async def publish_known_error(
    body: PublishKnownError, uow: UnitOfWorkDep, cmd: ProblemAction, response: Response
) -> ProblemRead:
    problem = await usecases.publish_known_error(cmd, uow, root_cause=body.root_cause, workaround=body.workaround)
    return _answer(problem, response)


@router.post("/{problem_id}/change", response_model=ProblemRead, summary="Link the change raised to fix it")
async def link_change(body: ChangeLink, uow: UnitOfWorkDep, cmd: ProblemAction, response: Response) -> ProblemRead:
    problem = await usecases.link_change(
        cmd,
        uow,
        change_id=body.change_id,
        change_number=body.change_number,
        reason=body.reason,
    )
    return _answer(problem, response)


@router.post("/{problem_id}/incidents", response_model=ProblemRead, summary="Link incidents by hand")
async def link_incidents(
    body: IncidentLinks, uow: UnitOfWorkDep, act: ProblemAction, response: Response
) -> ProblemRead:
    cmd = usecases.LinkIncidents(act.problem_id, body.incident_ids, act.actor, act.expected_version)
    return _answer(await usecases.link_incidents(cmd, uow), response)


@router.post("/{problem_id}/resolve", response_model=ProblemRead)
async def resolve(body: ProblemResolve, uow: UnitOfWorkDep, cmd: ProblemAction, response: Response) -> ProblemRead:
    return _answer(await usecases.resolve_problem(cmd, uow, resolution=body.resolution), response)


@router.post("/{problem_id}/reopen", response_model=ProblemRead)
async def reopen(body: ProblemReason, uow: UnitOfWorkDep, cmd: ProblemAction, response: Response) -> ProblemRead:
    return _answer(await usecases.reopen_problem(cmd, uow, reason=body.reason), response)


@router.post("/{problem_id}/close", response_model=ProblemRead)
async def close(
    uow: UnitOfWorkDep, cmd: ProblemAction, response: Response, body: ProblemClose | None = None
) -> ProblemRead:
    return _answer(await usecases.close_problem(cmd, uow, reason=body.reason if body else ""), response)


@router.post("/{problem_id}/cancel", response_model=ProblemRead)
async def cancel(body: ProblemReason, uow: UnitOfWorkDep, cmd: ProblemAction, response: Response) -> ProblemRead:
    return _answer(await usecases.cancel_problem(cmd, uow, reason=body.reason), response)


# ---------------------------------------------------------------------------- an incident's change links


@incident_links_router.get("/{incident_id}/change-links", response_model=list[ChangeLinkRead])
async def change_links(conn: ReadConnectionDep, incident: CurrentIncident) -> list[ChangeLinkRead]:
    rows = await analysis.change_links_of(conn, incident.id)
    return [ChangeLinkRead.model_validate(r, from_attributes=True) for r in rows]
