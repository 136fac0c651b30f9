"""What the notify routes share: the service's authorisation table (who may call each route), its
settings, and the subscription a route addresses, loaded or 404."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request

from services.notify.domain.subscriptions import Subscription
from services.notify.settings import NotifySettings
from services.notify.store.subscriptions import get_subscription
from shared import records_control
from shared.app import ReadConnectionDep
from shared.auth import Principal, Role
from shared.authorization import Access, Policy, Rule, row
from shared.errors import found

# ---------------------------------------------------------------------------- the authorisation table

_MANAGE = row(allow=[])
"""Subscriptions send the suite's events out of it, to a URL of the subscriber's choosing, and
notification rules decide who is e-mailed what: only the administrator creates, changes, replays
and removes them (admin is allowed every row)."""
_READ = row(allow=[Role.AUDITOR])
"""Subscriptions, notification rules and the delivery logs (webhooks and e-mail): the administrator
and the auditor read them; no other role (the logs name outside targets, recipients and answers)."""

_ATTACHMENTS = row(allow=[Role.AUDITOR, Role.AGENT, Role.INCIDENT_MANAGER])
"""An attachment a caller mailed in: the agents working the tickets read it (the incident's comment
names it), as do the administrator and the auditor. The intake log itself names every sender, so
it stays with _READ."""

TABLE: dict[str, dict[str, Rule]] = {
    "subscriptions.create_subscription": _MANAGE,
    "subscriptions.list_all_subscriptions": _READ,
    "subscriptions.get_subscription_record": _READ,
    "subscriptions.delete_subscription_record": _MANAGE,
    "subscriptions.disable": _MANAGE,
    "subscriptions.enable": _MANAGE,
    "subscriptions.rotate_secret": _MANAGE,
    "deliveries.list_all_deliveries": _READ,
    "deliveries.get_delivery_record": _READ,
    "deliveries.replay_events": _MANAGE,
    "notifications.create_rule": _MANAGE,
    "notifications.list_all_rules": _READ,
    "notifications.delete_rule_record": _MANAGE,
    "notifications.disable_rule": _MANAGE,
    "notifications.enable_rule": _MANAGE,
    "notifications.list_all_messages": _READ,
    "intake.list_intake_log": _READ,
    "intake.get_intake_record": _READ,
    "intake.get_attachment_content": _ATTACHMENTS,
    "intake.list_bounced_recipients": _READ,
    "intake.clear_bounced_recipient": _MANAGE,
    "notifications.put_directory_person": _MANAGE,
    "notifications.list_directory": _READ,
    "notifications.get_directory_person": _READ,
    "notifications.delete_directory_person": _MANAGE,
    # Records control (4.3.3): admin sets retention policies and legal holds; the auditor reads them
    # and the disposal log.
    **records_control.AUTHORISATION,
}

PUBLIC = frozenset({"notifications.unsubscribe"})
"""The one-click unsubscribe takes no bearer token: the signed token of the mail's link is the
credential (`api/notifications.py`); a link not valid is a 404."""

POLICY = Policy("notify", TABLE, [], public=PUBLIC)
"""No subscription is anyone's own: every cell is allow or deny."""
Authorised = Annotated[Access, Depends(POLICY.enforce)]
Caller = Annotated[Principal, Depends(POLICY.caller)]
"""Who the table let through (routers install `POLICY.enforce` first)."""


def notify_settings(request: Request) -> NotifySettings:
    settings: NotifySettings = request.app.state.settings
    return settings


Settings = Annotated[NotifySettings, Depends(notify_settings)]


async def current_subscription(subscription_id: UUID, conn: ReadConnectionDep) -> Subscription:
    return found(await get_subscription(conn, subscription_id), f"subscription {subscription_id}")


CurrentSubscription = Annotated[Subscription, Depends(current_subscription)]
