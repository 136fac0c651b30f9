"""Change routes: draft a change (or one from a template), read them, and the lifecycle steps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.change.api.deps import POLICY, Authorised, Caller, ChangeAction, CurrentChange, GovernanceDep
from services.change.domain.changes import Change, ChangeStatus, ChangeType
from services.change.schemas.changes import ChangeCreate, ChangePage, ChangeRead, Failure, Review
from services.change.schemas.templates import template_change_request
from services.change.store.changes import list_changes as query_changes
from services.change.usecases import changes as usecases
from services.change.usecases.templates import change_from_template
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset
from shared.http import created, tagged

router = APIRouter(prefix="/api/v1/changes", tags=["changes"], dependencies=[Depends(POLICY.enforce)])
"""Every route is in the service's authorisation table (`api/deps.py`), checked before anything else."""


def answer(item: Change, response: Response) -> ChangeRead:
    """The change as read, with its ETag."""
    return tagged(response, item.version, ChangeRead.of(item))


@router.post("", status_code=201, response_model=ChangeRead)
async def create_change(
    body: ChangeCreate, uow: UnitOfWorkDep, caller: Caller, response: Response, governance: GovernanceDep
) -> ChangeRead:
    if body.template_id is not None:
        item = await change_from_template(
            body.template_id,
            template_change_request(body),
            requester=caller.subject,
            uow=uow,
            governance=governance,
            named_by="template_id",
        )
        return created(response, f"{router.prefix}/{item.id}", item.version, ChangeRead.of(item))
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
    return created(response, f"{router.prefix}/{item.id}", item.version, ChangeRead.of(item))


@router.get("/{change_id}", response_model=ChangeRead)
async def get_change(item: CurrentChange, response: Response) -> ChangeRead:
    return tagged(response, item.version, ChangeRead.of(item))


@router.get("", response_model=ChangePage)
async def list_changes(
    conn: ReadConnectionDep,
    access: Authorised,
    status: ChangeStatus | None = None,
    change_type: Annotated[ChangeType | None, Query(alias="type")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ChangePage:
    items, total = await query_changes(
        conn,
        status=status.value if status else None,
        change_type=change_type.value if change_type else None,
        requester=access.principal.subject if access.only_own else None,
        limit=limit,
        offset=offset,
    )
    return ChangePage(items=[ChangeRead.of(c) for c in items], total=total, limit=limit, offset=offset)


# ---------------------------------------------------------------------------- the lifecycle


@router.post("/{change_id}/submit", response_model=ChangeRead)
async def submit(uow: UnitOfWorkDep, act: ChangeAction, response: Response) -> ChangeRead:
    return answer(await usecases.submit(act, uow), response)


@router.post("/{change_id}/start", response_model=ChangeRead)
async def start(uow: UnitOfWorkDep, act: ChangeAction, response: Response) -> ChangeRead:
    return answer(await usecases.start(act, uow), response)


@router.post("/{change_id}/complete", response_model=ChangeRead)
async def complete(uow: UnitOfWorkDep, act: ChangeAction, response: Response) -> ChangeRead:
    return answer(await usecases.complete(act, uow), response)


@router.post("/{change_id}/fail", response_model=ChangeRead)
async def fail(body: Failure, uow: UnitOfWorkDep, act: ChangeAction, response: Response) -> ChangeRead:
    return answer(await usecases.fail(act, body.notes, uow, backed_out=body.backed_out), response)


@router.post("/{change_id}/review", response_model=ChangeRead)
async def review(body: Review, uow: UnitOfWorkDep, act: ChangeAction, response: Response) -> ChangeRead:
    reviewed = await usecases.review(act, body.outcome, uow, lessons=body.lessons, objectives_met=body.objectives_met)
    return answer(reviewed, response)


@router.post("/{change_id}/close", response_model=ChangeRead)
async def close(uow: UnitOfWorkDep, act: ChangeAction, response: Response, governance: GovernanceDep) -> ChangeRead:
    return answer(await usecases.close(act, uow, governance), response)


@router.post("/{change_id}/cancel", response_model=ChangeRead)
async def cancel(uow: UnitOfWorkDep, act: ChangeAction, response: Response) -> ChangeRead:
    return answer(await usecases.cancel(act, uow), response)
