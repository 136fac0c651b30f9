"""Subscription use cases: create one (its target checked, its secret made), disable, enable,
rotate its secret with overlap, delete (one transaction each)."""

from __future__ import annotations

import secrets as random
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from services.notify import events
from services.notify.domain.chat import Channel
from services.notify.domain.notifications import check_template_name
from services.notify.domain.subscriptions import (
    SECRET_BYTES,
    Subscription,
    check_pattern,
    secret_of,
)
from services.notify.domain.targets import check_addresses, target_of
from services.notify.store import mail
from services.notify.store.subscriptions import SubscriptionRepository
from services.notify.store.webhooks import addresses_of
from shared import clock
from shared.errors import RuleViolation, check_version, found
from shared.uow import UnitOfWork


class SubscriptionAction(StrEnum):
    DISABLE = "disable"
    ENABLE = "enable"
    ROTATE_SECRET = "rotate-secret"


@dataclass(frozen=True)
class NewSubscription:
    url: str
    event_pattern: str
    subject_filter: str | None = None
    data_filter: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    channel: Channel = Channel.WEBHOOK
    template: str | None = None


async def check_target(url: str, *, allow_private: bool) -> None:
    """RuleViolation (422 on `url`) for a URL that is not http(s) to a host, or whose host resolves
    to an address that is not public (each address is checked) unless `allow_private`."""
    target = target_of(url)
    check_addresses(target.host, await addresses_of(target.host, target.port), allow_private=allow_private)


async def create_subscription(
    cmd: NewSubscription, actor: str, uow: UnitOfWork, *, allow_private: bool
) -> Subscription:
    check_pattern(cmd.event_pattern)
    if cmd.template is not None:
        if cmd.channel is Channel.WEBHOOK:
            raise RuleViolation("a template shapes a chat message: only with channel slack or teams", field="template")
        if not mail.template_exists(check_template_name(cmd.template)):
            raise RuleViolation(f"no template {cmd.template!r}", field="template")
    await check_target(cmd.url, allow_private=allow_private)
    now = clock.now()
    item = Subscription(
        id=uuid4(),
        url=cmd.url,
        event_pattern=cmd.event_pattern,
        secret=secret_of(random.token_bytes(SECRET_BYTES)),
        subject_filter=cmd.subject_filter,
        data_filter=dict(cmd.data_filter),
        description=cmd.description,
        channel=cmd.channel,
        template=cmd.template,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    async with uow:
        await uow.repository(SubscriptionRepository).add(item)
        await uow.commit()
    return item


async def act_on_subscription(
    subscription_id: UUID,
    action: SubscriptionAction,
    actor: str,
    expected_version: int | None,
    uow: UnitOfWork,
    *,
    secret_overlap: timedelta,
) -> Subscription:
    """Disable (announced as webhook.subscription_disabled.v1), enable (its held deliveries go out
    again, in order), or rotate the secret (the old one still signs for `secret_overlap`)."""
    async with uow:
        repo = uow.repository(SubscriptionRepository)
        item = found(await repo.get(subscription_id, for_update=True), f"subscription {subscription_id}")
        check_version(f"subscription {subscription_id}", item.version, expected_version)
        now = clock.now()
        if action is SubscriptionAction.DISABLE:
            item.disable(f"disabled by {actor}", now)
            uow.emit(events.subscription_disabled(item, actor), subject=str(item.id))
        elif action is SubscriptionAction.ENABLE:
            item.enable(now)
        else:
            item.rotate(secret_of(random.token_bytes(SECRET_BYTES)), now, secret_overlap)
        await repo.save(item)
        await uow.commit()
    return item


async def delete_subscription(subscription_id: UUID, uow: UnitOfWork) -> None:
    """The subscription, its queued deliveries and their log are removed."""
    async with uow:
        repo = uow.repository(SubscriptionRepository)
        found(await repo.get(subscription_id, for_update=True), f"subscription {subscription_id}")
        await repo.delete(subscription_id)
        await uow.commit()
