"""CMDB routes, change control: the changes that touched a CI and the approved ones that may."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from services.config.api.deps import POLICY, CurrentItem
from services.config.schemas.change_control import AppliedChangeRead, CIChangesRead, PlannedChangeRead
from services.config.store.change_control import changes_touching
from shared.app import ReadConnectionDep

router = APIRouter(prefix="/api/v1", tags=["cmdb"], dependencies=[Depends(POLICY.enforce)])


@router.get("/cis/{ci_id}/changes", response_model=CIChangesRead, tags=["configuration items"])
async def ci_changes(conn: ReadConnectionDep, item: CurrentItem) -> CIChangesRead:
    applied, planned = await changes_touching(conn, item.id)
    return CIChangesRead(
        applied=[
            AppliedChangeRead(number=r.number, first_applied_at=r.first, latest_version=r.version) for r in applied
        ],
        planned=[
            PlannedChangeRead(
                number=w.number, status=w.status, planned_start=w.planned_start, planned_end=w.planned_end
            )
            for w in planned
        ],
    )
