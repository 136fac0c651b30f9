"""Distribution routes: a stored run's distribution log."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends

from services.reporting.api.deps import POLICY
from services.reporting.schemas.distribution import DeliveryLog, DeliveryRead
from services.reporting.usecases import distribution as usecases
from shared.app import ReadConnectionDep

router = APIRouter(prefix="/api/v1", tags=["report governance"], dependencies=[Depends(POLICY.enforce)])


@router.get("/report-runs/{run_id}/distribution", response_model=DeliveryLog, summary="The run's distribution log")
async def get_distribution(conn: ReadConnectionDep, run_id: UUID) -> DeliveryLog:
    rows = await usecases.distribution_log(conn, run_id)
    fields: tuple[str, ...] = ("recipient", "channel", "status", "attempts", "last_error")
    fields += ("last_attempt_at", "next_attempt_at", "delivered_at")
    items = [DeliveryRead.model_validate({"id": r.distribution_id, **{f: r._mapping[f] for f in fields}}) for r in rows]
    return DeliveryLog(items=items)
