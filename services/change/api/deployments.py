"""Deployment routes: record one by hand, read them, verify and roll back a recorded one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AwareDatetime
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.api.deps import POLICY, Caller, CurrentDeployment
from services.change.domain.deployments import Deployment, DeploymentResult
from services.change.schemas.deployments import (
    ChangeRef,
    DeploymentCreate,
    DeploymentPage,
    DeploymentRead,
    IncidentLinkRead,
    Notes,
    Verification,
)
from services.change.schemas.pipeline import PipelineAnswer
from services.change.store.changes import incidents_of
from services.change.usecases import deployments as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import IfMatch, Limit, Offset, optional_version
from shared.http import tagged


def incident_read(row: Any, deployed_at: datetime | None) -> IncidentLinkRead:
    return IncidentLinkRead.from_record(
        row, after_release=None if deployed_at is None else row.linked_at >= deployed_at
    )


def pipeline_answer(outcome: usecases.DeploymentOutcome) -> PipelineAnswer:
    return PipelineAnswer(
        deployment=DeploymentRead.of(outcome.deployment),
        change=ChangeRef.of(outcome.change) if outcome.change else None,
        change_created=outcome.change_created,
        duplicate=outcome.duplicate,
        warnings=outcome.warnings,
    )


router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"], dependencies=[Depends(POLICY.enforce)])


@router.post("", status_code=201, response_model=PipelineAnswer)
async def record_deployment(
    body: DeploymentCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> PipelineAnswer:
    report = usecases.DeploymentReport(
        service=body.service,
        service_id=body.service_id,
        environment=body.environment,
        result=body.result,
        actor=who.subject,
        version=body.version,
        started_at=body.started_at,
        finished_at=body.finished_at,
        commit_sha=body.commit_sha,
        url=body.url,
        change_id=body.change_id,
        change_number=body.change_number,
        release_id=body.release_id,
        verification=body.verification,
    )
    outcome = await usecases.record_deployment(report, uow, create_change=False)
    response.headers["Location"] = f"{router.prefix}/{outcome.deployment.id}"
    return pipeline_answer(outcome)


@router.get("", response_model=DeploymentPage)
async def list_deployments(
    conn: ReadConnectionDep,
    service: Annotated[str | None, Query(max_length=200)] = None,
    service_id: UUID | None = None,
    environment: Annotated[str | None, Query(max_length=50)] = None,
    result: DeploymentResult | None = None,
    release_id: UUID | None = None,
    change_id: UUID | None = None,
    since: Annotated[AwareDatetime | None, Query(description="Recorded at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="Recorded before")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DeploymentPage:
    items, total = await usecases.list_deployments(
        conn,
        service=service,
        service_id=service_id,
        environment=environment,
        result=result,
        release_id=release_id,
        change_id=change_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return DeploymentPage(items=[DeploymentRead.of(d) for d in items], total=total, limit=limit, offset=offset)


async def _deployment_read(conn: AsyncConnection, item: Deployment) -> DeploymentRead:
    rows = await incidents_of(conn, [item.change_id]) if item.change_id else []
    return DeploymentRead.of(item, [incident_read(r, item.finished_at) for r in rows])


@router.get("/{deployment_id}", response_model=DeploymentRead)
async def get_deployment(item: CurrentDeployment, conn: ReadConnectionDep, response: Response) -> DeploymentRead:
    return tagged(response, item.row_version, await _deployment_read(conn, item))


@router.post("/{deployment_id}/verify", response_model=DeploymentRead)
async def verify_deployment(
    deployment_id: UUID,
    body: Verification,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: IfMatch = None,
) -> DeploymentRead:
    item = await usecases.verify_deployment(
        deployment_id, body.verification, body.passed, optional_version(if_match), uow
    )
    return tagged(response, item.row_version, DeploymentRead.of(item))


@router.post("/{deployment_id}/roll-back", response_model=DeploymentRead)
async def roll_back_deployment(
    deployment_id: UUID, body: Notes, uow: UnitOfWorkDep, response: Response, if_match: IfMatch = None
) -> DeploymentRead:
    item = await usecases.roll_back_deployment(deployment_id, body.notes, optional_version(if_match), uow)
    return tagged(response, item.row_version, DeploymentRead.of(item))
