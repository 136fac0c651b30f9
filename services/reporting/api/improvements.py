"""Reporting routes, the improvement register (ISO/IEC 20000-1 4.5.5): improvements and
nonconformities raised by hand or from the processes' events, their lifecycle and measured
benefit, and the intake policy (what raises an entry from an event)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.reporting.api.deps import POLICY, Caller
from services.reporting.domain.improvements import ImprovementKind, ImprovementSource
from services.reporting.schemas.improvements import (
    ImprovementActionBody,
    ImprovementCreate,
    ImprovementPage,
    ImprovementRead,
    ImprovementUpdate,
    IntakePolicyBody,
)
from services.reporting.store.improvements import get_entry, get_policy, page_of_entries
from services.reporting.usecases import improvements
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset, RequiredIfMatch
from shared.errors import found
from shared.http import created, expected_version, tagged

router = APIRouter(prefix="/api/v1/improvements", tags=["improvements"], dependencies=[Depends(POLICY.enforce)])
Status = Literal["raised", "accepted", "in_progress", "implemented", "closed", "rejected"]
Source = Literal[
    "sla_breach",
    "failed_change",
    "post_implementation_review",
    "complaint",
    "survey",
    "report_finding",
    "audit_finding",
    "manual",
]


@router.post("", status_code=201, response_model=ImprovementRead)
async def raise_improvement(
    body: ImprovementCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> ImprovementRead:
    values = body.model_dump()
    cmd = improvements.RaiseImprovement(
        **values | {"kind": ImprovementKind(body.kind), "source": ImprovementSource(body.source)}
    )
    entry = await improvements.raise_improvement(cmd, uow, who.subject)
    return created(response, f"{router.prefix}/{entry.id}", entry.version, ImprovementRead.of(entry))


@router.get("", response_model=ImprovementPage)
async def list_improvements(
    conn: ReadConnectionDep,
    status: Status | None = None,
    source: Source | None = None,
    owner: str | None = Query(default=None, max_length=200),
    q: str | None = Query(default=None, max_length=200, description="Title, source record or number"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> ImprovementPage:
    entries, total = await page_of_entries(
        conn, status=status, source=source, owner=owner, q=q, limit=limit, offset=offset
    )
    return ImprovementPage(items=[ImprovementRead.of(e) for e in entries], total=total, limit=limit, offset=offset)


@router.get("/policy", response_model=IntakePolicyBody)
async def get_improvement_policy(conn: ReadConnectionDep) -> IntakePolicyBody:
    return IntakePolicyBody.of(await get_policy(conn))


@router.put("/policy", response_model=IntakePolicyBody)
async def set_improvement_policy(body: IntakePolicyBody, uow: UnitOfWorkDep, who: Caller) -> IntakePolicyBody:
    return IntakePolicyBody.of(await improvements.set_policy(body.policy(), uow, who.subject))


@router.get("/{improvement_id}", response_model=ImprovementRead)
async def get_improvement(improvement_id: UUID, conn: ReadConnectionDep, response: Response) -> ImprovementRead:
    entry = found(await get_entry(conn, improvement_id), f"improvement {improvement_id}")
    return tagged(response, entry.version, ImprovementRead.of(entry))


@router.patch("/{improvement_id}", response_model=ImprovementRead)
async def update_improvement(
    improvement_id: UUID,
    body: ImprovementUpdate,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> ImprovementRead:
    cmd = improvements.UpdateImprovement(**body.model_dump(exclude_unset=True))
    entry = await improvements.update_improvement(improvement_id, cmd, expected_version(if_match), uow, who.subject)
    return tagged(response, entry.version, ImprovementRead.of(entry))


@router.post("/{improvement_id}/actions", response_model=ImprovementRead)
async def act_on_improvement(
    improvement_id: UUID,
    body: ImprovementActionBody,
    uow: UnitOfWorkDep,
    who: Caller,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> ImprovementRead:
    """Move the entry along its lifecycle; closing records the figure measured after (409 names the
    actions its status allows)."""
    entry = await improvements.act(
        improvement_id,
        body.command(),
        expected_version(if_match),
        uow,
        who.subject,
        after=body.after,
        reason=body.reason,
    )
    return tagged(response, entry.version, ImprovementRead.of(entry))
