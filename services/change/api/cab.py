"""Assessment and approval routes of a change: assess (risk), approve, reject."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from services.change.api.changes import answer
from services.change.api.deps import POLICY, ChangeAction, GovernanceDep
from services.change.schemas.cab import Assessment, Decision
from services.change.schemas.changes import ChangeRead
from services.change.usecases import cab as usecases
from shared.app import UnitOfWorkDep

router = APIRouter(prefix="/api/v1/changes", tags=["changes"], dependencies=[Depends(POLICY.enforce)])


@router.post("/{change_id}/assess", response_model=ChangeRead)
async def assess(
    body: Assessment,
    uow: UnitOfWorkDep,
    act: ChangeAction,
    request: Request,
    response: Response,
    governance: GovernanceDep,
) -> ChangeRead:
    impact = request.app.state.impact
    return answer(await usecases.assess(act, body.risk, uow, impact, governance), response)


@router.post("/{change_id}/approve", response_model=ChangeRead)
async def approve(
    act: ChangeAction, uow: UnitOfWorkDep, response: Response, governance: GovernanceDep, body: Decision | None = None
) -> ChangeRead:
    comment = body.comment if body else ""
    decided = await usecases.decide(act, approve=True, comment=comment, uow=uow, governance=governance)
    return answer(decided, response)


@router.post("/{change_id}/reject", response_model=ChangeRead)
async def reject(act: ChangeAction, body: Decision, uow: UnitOfWorkDep, response: Response) -> ChangeRead:
    return answer(await usecases.decide(act, approve=False, comment=body.comment, uow=uow), response)
