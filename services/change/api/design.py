"""Design and transition routes of a change (clause 5): its design record and the go-live acceptance."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from services.change.api.changes import answer
from services.change.api.deps import POLICY, ChangeAction, CurrentChange
from services.change.domain.changes import Change
from services.change.domain.design import ServiceLevelTarget
from services.change.schemas.changes import ChangeRead
from services.change.schemas.design import DesignRead, DesignWrite, GoLive
from services.change.usecases import design as usecases
from shared.app import UnitOfWorkDep
from shared.errors import NotFound
from shared.http import tagged

router = APIRouter(prefix="/api/v1/changes", tags=["changes"], dependencies=[Depends(POLICY.enforce)])


def _design_of(item: Change, response: Response) -> DesignRead:
    if item.design is None:
        raise NotFound(f"{item.number} has no design and transition record")
    return tagged(response, item.version, DesignRead.of(item.design))


@router.put("/{change_id}/design", response_model=DesignRead)
async def put_design(body: DesignWrite, uow: UnitOfWorkDep, act: ChangeAction, response: Response) -> DesignRead:
    """The design and transition record (requirements, acceptance criteria, service level targets,
    capacity), written whole; settled once the change is approved or rejected."""
    design = usecases.DesignInput(
        requirements=body.requirements,
        acceptance_criteria=tuple(body.acceptance_criteria),
        service_level_targets=tuple(ServiceLevelTarget(t.metric, t.target) for t in body.service_level_targets),
        capacity=body.capacity,
    )
    item = await usecases.record_design(act, design, uow)
    return _design_of(item, response)


@router.get("/{change_id}/design", response_model=DesignRead)
async def get_design(item: CurrentChange, response: Response) -> DesignRead:
    return _design_of(item, response)


@router.post("/{change_id}/go-live", response_model=ChangeRead)
async def go_live(body: GoLive, uow: UnitOfWorkDep, act: ChangeAction, response: Response) -> ChangeRead:
    """5.4: after implementation, whether the service met its acceptance criteria (needed before close)."""
    return answer(await usecases.accept_go_live(act, accepted=body.accepted, comment=body.comment, uow=uow), response)
