"""The delivery log and replays: a subscription's deliveries, one delivery with every attempt,
and a replay by event id or time range."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends

from services.notify.api.deps import POLICY, CurrentSubscription, Settings
from services.notify.domain.deliveries import DeliveryStatus
from services.notify.schemas.deliveries import (
    AttemptRead,
    DeliveryDetail,
    DeliveryPage,
    DeliveryRead,
    ReplayQueued,
    ReplayRequest,
)
from services.notify.store.deliveries import list_deliveries
from services.notify.usecases import deliveries as usecases
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], dependencies=[Depends(POLICY.enforce)])

MAX_ATTEMPTS_SHOWN = 500


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=DeliveryPage)
async def list_all_deliveries(
    item: CurrentSubscription,
    conn: ReadConnectionDep,
    status: DeliveryStatus | None = None,
    event_id: UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DeliveryPage:
    rows, total = await list_deliveries(
        conn, item.id, status=status.value if status else None, event_id=event_id, limit=limit, offset=offset
    )
    return DeliveryPage(items=[DeliveryRead.of(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail)
async def get_delivery_record(delivery_id: UUID, conn: ReadConnectionDep) -> DeliveryDetail:
    found = await usecases.delivery_log(conn, delivery_id, MAX_ATTEMPTS_SHOWN)
    log = [AttemptRead.of(a) for a in found.attempts]
    return DeliveryDetail.from_record(found.delivery, status=DeliveryStatus(found.delivery.status), log=log)


@router.post("/subscriptions/{subscription_id}/replay", status_code=202, response_model=ReplayQueued)
async def replay_events(
    subscription_id: UUID, body: ReplayRequest, uow: UnitOfWorkDep, settings: Settings
) -> ReplayQueued:
    request = usecases.Replay(event_id=body.event_id, since=body.since, until=body.until)
    queued = await usecases.replay(subscription_id, request, uow, max_events=settings.webhook_replay_max_events)
    return ReplayQueued(queued=queued)
