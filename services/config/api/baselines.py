"""CMDB routes, baselines: take a snapshot, read them, compare one with now or another."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from services.config.api.deps import POLICY, Caller, CurrentBaseline
from services.config.schemas.baselines import (
    BaselineComparison,
    BaselineCreate,
    BaselinePage,
    BaselineRead,
    ChangedCI,
)
from services.config.schemas.items import ConfigItemRead
from services.config.store.baselines import list_baselines as page_of_baselines
from services.config.usecases import baselines
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset
from shared.errors import RuleViolation

router = APIRouter(prefix="/api/v1", tags=["cmdb"], dependencies=[Depends(POLICY.enforce)])


@router.post("/baselines", status_code=201, response_model=BaselineRead, tags=["baselines"])
async def create_baseline(body: BaselineCreate, uow: UnitOfWorkDep, who: Caller, response: Response) -> BaselineRead:
    cmd = baselines.TakeBaseline(
        name=body.name,
        description=body.description,
        actor=who.subject,
        service_id=body.service_id,
        ci_type=body.type,
        status=body.status.value if body.status else None,
    )
    taken = await baselines.take_baseline(cmd, uow)
    response.headers["Location"] = f"{router.prefix}/baselines/{taken.id}"
    return BaselineRead.model_validate(taken, from_attributes=True)


@router.get("/baselines/{baseline_id}", response_model=BaselineRead, tags=["baselines"])
async def get_baseline(baseline: CurrentBaseline) -> BaselineRead:
    return BaselineRead.model_validate(baseline, from_attributes=True)


@router.get("/baselines", response_model=BaselinePage, tags=["baselines"])
async def list_baselines(conn: ReadConnectionDep, limit: Limit = 50, offset: Offset = 0) -> BaselinePage:
    rows, total = await page_of_baselines(conn, limit=limit, offset=offset)
    items = [BaselineRead.model_validate(r, from_attributes=True) for r in rows]
    return BaselinePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/baselines/{baseline_id}/compare", response_model=BaselineComparison, tags=["baselines"])
async def compare_baseline(
    baseline_id: UUID,
    uow: UnitOfWorkDep,
    with_: Annotated[str, Query(alias="with", description="Another baseline's id, or 'now'")] = "now",
) -> BaselineComparison:
    other = None if with_ == "now" else _uuid_or_422(with_, "with")
    result = await baselines.compare_baseline(uow, baseline_id, other)
    return BaselineComparison(
        baseline_id=baseline_id,
        compared_with=with_,
        added=[ConfigItemRead.of_snapshot(s) for s in result.added],
        removed=[ConfigItemRead.of_snapshot(s) for s in result.removed],
        changed=[ChangedCI(ci_id=c.ci_id, number=c.number, name=c.name, changes=c.changes) for c in result.changed],
        unchanged=result.unchanged,
    )


def _uuid_or_422(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise RuleViolation(f"{value!r} is neither 'now' nor a baseline id", field=field) from None
