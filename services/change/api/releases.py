"""Release routes: plan a release, read them, and the steps of its lifecycle."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from services.change.api.deployments import incident_read
from services.change.api.deps import POLICY, Caller, CurrentRelease, ReleaseAction
from services.change.domain.releases import Release, ReleaseStatus, ReleaseType
from services.change.schemas.deployments import DeploymentRead, Notes
from services.change.schemas.releases import AcceptanceBody, ReleaseCreate, ReleasePage, ReleaseRead
from services.change.store.changes import incidents_of
from services.change.store.deployments import list_deployments
from services.change.store.releases import list_releases as query_releases
from services.change.usecases import releases as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset
from shared.http import created, tagged

router = APIRouter(prefix="/api/v1/releases", tags=["releases"], dependencies=[Depends(POLICY.enforce)])


async def _release_read(conn: AsyncConnection, item: Release) -> ReleaseRead:
    deployments, _ = await list_deployments(conn, release_id=item.id, limit=200)
    incidents = await incidents_of(conn, item.change_ids)
    return ReleaseRead.of(
        item, [DeploymentRead.of(d) for d in deployments], [incident_read(r, item.deployed_at) for r in incidents]
    )


@router.post("", status_code=201, response_model=ReleaseRead)
async def create_release(body: ReleaseCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> ReleaseRead:
    cmd = usecases.PlanRelease(
        name=body.name,
        version=body.version,
        release_type=body.type,
        actor=who.subject,
        service_id=body.service_id,
        change_ids=tuple(body.change_ids),
        known_error_ids=tuple(body.known_error_ids),
        planned_date=body.planned_date,
        acceptance_criteria=tuple(body.acceptance_criteria),
    )
    item = await usecases.plan_release(cmd, uow)
    return created(response, f"{router.prefix}/{item.id}", item.row_version, ReleaseRead.of(item))


@router.get("/{release_id}", response_model=ReleaseRead)
async def get_release(item: CurrentRelease, conn: ReadConnectionDep, response: Response) -> ReleaseRead:
    return tagged(response, item.row_version, await _release_read(conn, item))


@router.get("", response_model=ReleasePage)
async def list_releases(
    conn: ReadConnectionDep,
    status: ReleaseStatus | None = None,
    service_id: UUID | None = None,
    release_type: Annotated[ReleaseType | None, Query(alias="type")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ReleasePage:
    items, total = await query_releases(
        conn,
        status=status.value if status else None,
        service_id=service_id,
        release_type=release_type.value if release_type else None,
        limit=limit,
        offset=offset,
    )
    return ReleasePage(items=[ReleaseRead.of(r) for r in items], total=total, limit=limit, offset=offset)


def _answer(item: Release, response: Response) -> ReleaseRead:
    return tagged(response, item.row_version, ReleaseRead.of(item))


@router.post("/{release_id}/build", response_model=ReleaseRead)
async def build_release(act: ReleaseAction, uow: UnitOfWorkDep, response: Response) -> ReleaseRead:
    return _answer(await usecases.build_release(act, uow), response)


@router.post("/{release_id}/accept", response_model=ReleaseRead, summary="The acceptance test passed")
async def accept_release(
    act: ReleaseAction, body: AcceptanceBody, uow: UnitOfWorkDep, response: Response
) -> ReleaseRead:
    return _answer(await usecases.accept_release(act, body.notes, uow), response)


@router.post("/{release_id}/reject", response_model=ReleaseRead, summary="The acceptance test failed")
async def reject_release(
    act: ReleaseAction, body: AcceptanceBody, uow: UnitOfWorkDep, response: Response
) -> ReleaseRead:
    return _answer(await usecases.reject_release(act, body.notes, uow), response)


@router.post("/{release_id}/deploy", response_model=ReleaseRead, summary="Deployed to production")
async def deploy_release(act: ReleaseAction, uow: UnitOfWorkDep, response: Response) -> ReleaseRead:
    return _answer(await usecases.deploy_release(act, uow), response)


@router.post("/{release_id}/fail", response_model=ReleaseRead, summary="Failed after deployment")
async def fail_release(act: ReleaseAction, body: Notes, uow: UnitOfWorkDep, response: Response) -> ReleaseRead:
    return _answer(await usecases.fail_release(act, body.notes, uow), response)


@router.post("/{release_id}/close", response_model=ReleaseRead)
async def close_release(act: ReleaseAction, uow: UnitOfWorkDep, response: Response) -> ReleaseRead:
    return _answer(await usecases.close_release(act, uow), response)


@router.post("/{release_id}/cancel", response_model=ReleaseRead)
async def cancel_release(act: ReleaseAction, uow: UnitOfWorkDep, response: Response) -> ReleaseRead:
    return _answer(await usecases.cancel_release(act, uow), response)
