"""Assessment and approval routes of a change: assess (risk), approve, reject."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from services.change.api.changes import answer
from services.change.api.deps import Approver, GovernanceDep, ManagerAction, change_act
from services.change.schemas.cab import Assessment, Decision
from services.change.schemas.changes import ChangeRead
from services.change.usecases import cab as usecases
from shared.app import UnitOfWorkDep
from shared.deps import IfMatch

router = APIRouter(prefix="/api/v1/changes", tags=["changes"])


@router.post("/{change_id}/assess", response_model=ChangeRead)
async def assess(
    body: Assessment,
    uow: UnitOfWorkDep,
    act: ManagerAction,
    request: Request,
    response: Response,
    governance: GovernanceDep,
) -> ChangeRead:
    impact = request.app.state.impact
    return answer(await usecases.assess(act, body.risk, uow, impact, governance), response)


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
    return answer(
        await usecases.decide(change_act(change_id, who, if_match), approve=True, comment=comment, uow=uow), response
    )


@router.post("/{change_id}/reject", response_model=ChangeRead)
async def reject(
    change_id: UUID, body: Decision, uow: UnitOfWorkDep, who: Approver, response: Response, if_match: IfMatch = None
) -> ChangeRead:
    act = change_act(change_id, who, if_match)
    return answer(await usecases.decide(act, approve=False, comment=body.comment, uow=uow), response)
