"""Webhook subscription routes: create (the secret answered once), read, list, disable, enable,
rotate the secret, delete."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from services.notify.api.deps import POLICY, Caller, CurrentSubscription, Settings
from services.notify.domain.subscriptions import Subscription, SubscriptionStatus
from services.notify.schemas.subscriptions import (
    SubscriptionCreate,
    SubscriptionPage,
    SubscriptionRead,
    SubscriptionWithSecret,
)
from services.notify.store.subscriptions import list_subscriptions
from services.notify.usecases import subscriptions as usecases
from services.notify.usecases.subscriptions import SubscriptionAction
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import IfMatch, Limit, Offset, optional_version
from shared.http import created, tagged

router = APIRouter(prefix="/api/v1/webhooks/subscriptions", tags=["webhooks"], dependencies=[Depends(POLICY.enforce)])


@router.post("", status_code=201, response_model=SubscriptionWithSecret)
async def create_subscription(
    body: SubscriptionCreate, uow: UnitOfWorkDep, who: Caller, settings: Settings, response: Response
) -> SubscriptionWithSecret:
    cmd = usecases.NewSubscription(
        url=body.url,
        event_pattern=body.event_pattern,
        subject_filter=body.subject_filter,
        data_filter=dict(body.data_filter),
        description=body.description,
        channel=body.channel,
        template=body.template,
    )
    item = await usecases.create_subscription(
        cmd, who.subject, uow, allow_private=settings.webhook_allow_private_targets
    )
    return created(response, f"{router.prefix}/{item.id}", item.version, SubscriptionWithSecret.of(item))


@router.get("", response_model=SubscriptionPage)
async def list_all_subscriptions(
    conn: ReadConnectionDep, status: SubscriptionStatus | None = None, limit: Limit = 50, offset: Offset = 0
) -> SubscriptionPage:
    items, total = await list_subscriptions(conn, status=status.value if status else None, limit=limit, offset=offset)
    return SubscriptionPage(items=[SubscriptionRead.of(s) for s in items], total=total, limit=limit, offset=offset)


@router.get("/{subscription_id}", response_model=SubscriptionRead)
async def get_subscription_record(item: CurrentSubscription, response: Response) -> SubscriptionRead:
    return tagged(response, item.version, SubscriptionRead.of(item))


@router.delete("/{subscription_id}", status_code=204)
async def delete_subscription_record(subscription_id: UUID, uow: UnitOfWorkDep) -> Response:
    await usecases.delete_subscription(subscription_id, uow)
    return Response(status_code=204)


async def _act(
    subscription_id: UUID,
    action: SubscriptionAction,
    uow: UnitOfWorkDep,
    who: Caller,
    settings: Settings,
    if_match: IfMatch,
) -> Subscription:
    return await usecases.act_on_subscription(
        subscription_id,
        action,
        who.subject,
        optional_version(if_match),
        uow,
        secret_overlap=timedelta(seconds=settings.webhook_secret_overlap_s),
    )


@router.post("/{subscription_id}/disable", response_model=SubscriptionRead)
async def disable(
    subscription_id: UUID,
    uow: UnitOfWorkDep,
    who: Caller,
    settings: Settings,
    response: Response,
    if_match: IfMatch = None,
) -> SubscriptionRead:
    item = await _act(subscription_id, SubscriptionAction.DISABLE, uow, who, settings, if_match)
    return tagged(response, item.version, SubscriptionRead.of(item))


@router.post("/{subscription_id}/enable", response_model=SubscriptionRead)
async def enable(
    subscription_id: UUID,
    uow: UnitOfWorkDep,
    who: Caller,
    settings: Settings,
    response: Response,
    if_match: IfMatch = None,
) -> SubscriptionRead:
    item = await _act(subscription_id, SubscriptionAction.ENABLE, uow, who, settings, if_match)
    return tagged(response, item.version, SubscriptionRead.of(item))


@router.post("/{subscription_id}/rotate-secret", response_model=SubscriptionWithSecret)
async def rotate_secret(
    subscription_id: UUID,
    uow: UnitOfWorkDep,
    who: Caller,
    settings: Settings,
    response: Response,
    if_match: IfMatch = None,
) -> SubscriptionWithSecret:
    item = await _act(subscription_id, SubscriptionAction.ROTATE_SECRET, uow, who, settings, if_match)
    return tagged(response, item.version, SubscriptionWithSecret.of(item))
