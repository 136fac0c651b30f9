"""Chat channels: a subscription with channel `slack` or `teams` posts an incoming-webhook message
(Slack: `text` and `blocks`; Teams: a MessageCard) to a real HTTP receiver, through the webhook
delivery queue, with its retries and log, and behind the same private-target guard."""

from __future__ import annotations

import json

import pytest

from services.notify.domain.chat import Channel
from services.notify.usecases import subscriptions
from shared.errors import RuleViolation
from tests.notify.helpers import Notify
from tests.notify.integration.test_mail import resolved
from tests.notify.receiver import Receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_slack_and_teams_get_their_message_shapes_with_retries_and_a_log(notify: Notify, hooks: Receiver) -> None:
    hooks.chat |= {"/slack", "/teams"}
    hooks.scripts["/slack"] = [503, 200]
    slack = await notify.subscribe(
        hooks.url("/slack"), "incident.resolved.v1", channel=Channel.SLACK, template="incident_resolved"
    )
    teams = await notify.subscribe(hooks.url("/teams"), "incident.#", channel=Channel.TEAMS)
    event = resolved("ada", title="Printer <b>on fire</b> & smoking")
    await notify.consume(event)
    await notify.deliver_until(lambda: bool(hooks.accepted("/slack")) and bool(hooks.accepted("/teams")))

    (got,) = hooks.accepted("/slack")
    assert got.headers["content-type"] == "application/json"
    assert "webhook-signature" not in got.headers
    message = json.loads(got.body)
    subject = "INC0000042 resolved: Printer &lt;b&gt;on fire&lt;/b&gt; &amp; smoking"
    assert message["text"].startswith(subject + "\n")
    header, section = message["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "INC0000042 resolved: Printer <b>on fire</b> & smoking"},
    }
    assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
    assert "Resolution: toner replaced" in section["text"]["text"]
    assert "&lt;b&gt;on fire&lt;/b&gt;" in section["text"]["text"], "Slack's mrkdwn escaping"
    (delivery,) = await notify.deliveries_of(slack.id)
    assert delivery.status == "delivered" and delivery.attempts == 2, "retried like any webhook"
    assert [a.status_code for a in await notify.attempts_of(delivery.id)] == [503, 200]

    (card,) = hooks.accepted("/teams")
    payload = json.loads(card.body)
    assert payload["@type"] == "MessageCard" and payload["@context"] == "https://schema.org/extensions"
    assert payload["title"] == f"incident.resolved.v1 {event.subject}" == payload["summary"]
    assert "number: INC0000042" in payload["text"] and "title: Printer <b>on fire</b> & smoking" in payload["text"]
    assert (await notify.deliveries_of(teams.id))[0].status == "delivered"


async def test_a_chat_target_is_guarded_and_a_template_must_exist(notify: Notify, hooks: Receiver) -> None:
    for bad in (
        {"url": hooks.url("/slack"), "allow_private": False},  # loopback: refused by default
        {"url": hooks.url("/slack"), "template": "no_such_template"},
        {"url": hooks.url("/slack"), "template": "incident_resolved", "channel": Channel.WEBHOOK},
    ):
        cmd = subscriptions.NewSubscription(
            url=str(bad["url"]),
            event_pattern="#",
            channel=bad.get("channel", Channel.SLACK),  # type: ignore[arg-type]
            template=bad.get("template"),  # type: ignore[arg-type]
        )
        with pytest.raises(RuleViolation):
            await subscriptions.create_subscription(
                cmd, "ada", notify.unit_of_work(), allow_private=bool(bad.get("allow_private", True))
            )
