"""Webhooks delivered to a real HTTP receiver (uvicorn on 127.0.0.1), each verified there by the
`standardwebhooks` package and parsed by the CloudEvents SDK: every matching event once, as a
structured-mode CloudEvent; retries in order per subject; giving up disables the subscription
with a notice; secret rotation with overlap; the delivery log; replay by id and by time range."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.notify import worker
from services.notify.domain.subscriptions import SubscriptionStatus
from services.notify.store import tables
from services.notify.store.subscriptions import get_subscription
from services.notify.usecases import deliveries, subscriptions
from services.notify.usecases.subscriptions import SubscriptionAction
from shared.errors import RuleViolation
from shared.periodic import JobContext
from tests.notify.helpers import Notify, event
from tests.notify.receiver import Receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_every_matching_event_arrives_once_signed_as_a_structured_cloudevent(
    notify: Notify, hooks: Receiver
) -> None:
    sub = await notify.subscribe(hooks.url("/all"), "incident.#", data_filter={"priority": 1})
    hooks.secrets["/all"] = [sub.secret]
    wanted = [event("incident.created.v1", "INC1", priority=1), event("incident.resolved.v1", "INC2", priority=1)]
    unwanted = [event("change.created.v1", "CHG1", priority=1), event("incident.created.v1", "INC3", priority=2)]
    await notify.consume(wanted[0], unwanted[0], unwanted[1], wanted[1])

    await notify.deliver_until(lambda: len(hooks.accepted("/all")) == 2)
    await notify.deliver()

    got = hooks.accepted("/all")
    assert [d.event_id for d in got] == [str(e.id) for e in wanted]
    assert hooks.refused == []
    first = got[0]
    assert first.headers["content-type"].startswith("application/cloudevents+json")
    assert first.headers["webhook-id"] == str(wanted[0].id)
    assert abs(int(first.headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 300
    assert first.headers["webhook-signature"].startswith("v1,")
    assert first.event is not None
    assert first.event.get_type() == "itsm.incident.created.v1"
    assert first.event.get_source() == "/itsm/incident"
    assert first.event.get_subject() == "INC1"
    assert first.event.get_data() == {"priority": 1}
    assert json.loads(first.body) == json.loads(wanted[0].model_dump_json())
    rows = await notify.deliveries_of(sub.id)
    assert [(r.event_id, r.status, r.attempts, r.last_status_code) for r in rows] == [
        (e.id, "delivered", 1, 200) for e in wanted
    ]


async def test_a_receiver_that_fails_three_times_gets_every_event_once_in_order_per_subject(
    notify: Notify, hooks: Receiver
) -> None:
    sub = await notify.subscribe(hooks.url("/flaky"))
    hooks.secrets["/flaky"] = [sub.secret]
    hooks.scripts["/flaky"] = [503, 500, 503, 200]
    a = [event(f"incident.step{i}.v1", "INC-A", n=i) for i in range(4)]
    b = [event(f"incident.step{i}.v1", "INC-B", n=i) for i in range(3)]
    loose = [event("ci.created.v1", None, n=i) for i in range(2)]
    await notify.consume(a[0], b[0], a[1], loose[0], b[1], a[2], b[2], loose[1], a[3])

    await notify.deliver_until(lambda: len(hooks.accepted("/flaky")) == 9)
    await notify.deliver()

    assert [d.status for d in hooks.at("/flaky")][:3] == [503, 500, 503]
    got = hooks.accepted("/flaky")
    ids = [d.event_id for d in got]
    assert sorted(ids) == sorted(str(e.id) for e in a + b + loose), "every event once"
    assert [d.event_id for d in got if d.subject == "INC-A"] == [str(e.id) for e in a]
    assert [d.event_id for d in got if d.subject == "INC-B"] == [str(e.id) for e in b]
    rows = await notify.deliveries_of(sub.id)
    assert {r.status for r in rows} == {"delivered"}
    assert sum(r.attempts for r in rows) == 12
    failed_first = [r for r in rows if r.attempts > 1]
    log = [a for r in failed_first for a in await notify.attempts_of(r.id)]
    assert sorted(x.status_code for x in log) == [200] * len(failed_first) + [500, 503, 503]
    refused = [x for x in log if x.status_code != 200]
    assert all(x.error and x.error.startswith("HTTP 5") for x in refused)
    assert all(x.response_excerpt and len(x.response_excerpt) == 500 for x in refused), "bounded excerpt"
    assert all(x.duration_ms >= 0 for x in log)


async def test_past_the_retry_period_the_subscription_is_disabled_with_a_notice(
    notify: Notify, hooks: Receiver
) -> None:
    notify.settings = notify.settings.model_copy(update={"webhook_retry_period_s": 0.3})
    sub = await notify.subscribe(hooks.url("/down"))
    hooks.secrets["/down"] = [sub.secret]
    hooks.scripts["/down"] = [503]
    first, second = event("incident.created.v1", "INC9"), event("incident.resolved.v1", "INC9")
    await notify.consume(first, second)

    async def disabled() -> bool:
        item = await get_subscription_now(notify, sub.id)
        return item.status is SubscriptionStatus.DISABLED

    for _ in range(400):
        await notify.deliver()
        if await disabled():
            break
    item = await get_subscription_now(notify, sub.id)
    assert item.status is SubscriptionStatus.DISABLED
    assert item.disabled_reason is not None and "HTTP 503" in item.disabled_reason
    assert {d.event_id for d in hooks.at("/down")} == {str(first.id)}, "the later event of the subject was held"
    rows = await notify.deliveries_of(sub.id)
    assert [(r.event_id, r.status) for r in rows] == [(first.id, "failed"), (second.id, "pending")]
    notices = [e for e in await notify.published() if e.type == "itsm.webhook.subscription_disabled.v1"]
    assert len(notices) == 1
    assert notices[0].subject == str(sub.id)
    assert notices[0].data["subscription_id"] == str(sub.id)
    assert notices[0].data["url_host"] == "127.0.0.1"
    assert notices[0].data["actor"] == "system"
    tried = len(hooks.at("/down"))
    await notify.deliver()
    assert len(hooks.at("/down")) == tried, "a disabled subscription is sent nothing"

    hooks.scripts["/down"] = [200]
    await subscriptions.act_on_subscription(
        sub.id, SubscriptionAction.ENABLE, "ada", None, notify.unit_of_work(), secret_overlap=timedelta(0)
    )
    await notify.deliver_until(lambda: len(hooks.accepted("/down")) == 1)
    assert [d.event_id for d in hooks.accepted("/down")] == [str(second.id)], "the held one goes once enabled"


async def get_subscription_now(notify: Notify, subscription_id: object) -> subscriptions.Subscription:
    async with notify.engine.connect() as conn:
        item = await get_subscription(conn, subscription_id)  # type: ignore[arg-type]
    assert item is not None
    return item


async def test_a_rotated_secret_overlaps_the_old_one_and_a_tampered_signature_is_refused(
    notify: Notify, hooks: Receiver
) -> None:
    sub = await notify.subscribe(hooks.url("/rotating"))
    old = sub.secret
    rotated = await subscriptions.act_on_subscription(
        sub.id,
        SubscriptionAction.ROTATE_SECRET,
        "ada",
        sub.version,
        notify.unit_of_work(),
        secret_overlap=timedelta(hours=1),
    )
    new = rotated.secret
    assert new != old and new.startswith("whsec_")
    hooks.secrets["/rotating"] = [old, new]
    during = event("incident.created.v1", "INC5")
    await notify.consume(during)
    await notify.deliver_until(lambda: len(hooks.accepted("/rotating")) == 1)
    delivery = hooks.accepted("/rotating")[0]
    assert delivery.verified_with == [old, new], "a receiver holding either secret verifies it"
    assert len(delivery.headers["webhook-signature"].split(" ")) == 2

    tampered = dict(delivery.headers)
    version, mac = tampered["webhook-signature"].split(" ")[0].split(",")
    tampered["webhook-signature"] = f"{version},{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(delivery.body, tampered)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(delivery.body.replace(b"INC5", b"INC6"), delivery.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(delivery.body, delivery.headers | {"webhook-id": "another"})

    async with notify.engine.begin() as conn:  # the overlap is over
        past = datetime.now(UTC) - timedelta(seconds=1)
        s = tables.webhook_subscription
        await conn.execute(update(s).where(s.c.id == sub.id).values(previous_secret_until=past))
    after = event("incident.resolved.v1", "INC5")
    await notify.consume(after)
    await notify.deliver_until(lambda: len(hooks.accepted("/rotating")) == 2)
    assert hooks.accepted("/rotating")[1].verified_with == [new]
    assert len(hooks.accepted("/rotating")[1].headers["webhook-signature"].split(" ")) == 1

    hooks.secrets["/rotating"] = [old]  # a receiver that never took the new secret
    await notify.consume(event("incident.closed.v1", "INC7"))
    await notify.deliver_until(lambda: len(hooks.refused) == 1)
    assert hooks.refused[0].status == 401


async def test_replay_by_event_id_and_by_time_range(notify: Notify, hooks: Receiver) -> None:
    sub = await notify.subscribe(hooks.url("/replay"), "incident.*.v1")
    hooks.secrets["/replay"] = [sub.secret]
    before = datetime.now(UTC)
    events = [event("incident.created.v1", f"INC{i}") for i in range(3)]
    other = event("change.created.v1", "CHG1")
    await notify.consume(*events, other)
    after = datetime.now(UTC) + timedelta(seconds=1)
    await notify.deliver_until(lambda: len(hooks.accepted("/replay")) == 3)

    queued = await deliveries.replay(
        sub.id, deliveries.Replay(event_id=events[1].id), notify.unit_of_work(), max_events=10
    )
    assert queued == 1
    await notify.deliver_until(lambda: len(hooks.accepted("/replay")) == 4)
    again = hooks.accepted("/replay")[3]
    assert again.event_id == str(events[1].id)
    assert again.headers["webhook-id"] == str(events[1].id), "a replay carries the event's own id"

    queued = await deliveries.replay(
        sub.id, deliveries.Replay(since=before, until=after), notify.unit_of_work(), max_events=10
    )
    assert queued == 3, "the range's events that match the subscription (not the change)"
    await notify.deliver_until(lambda: len(hooks.accepted("/replay")) == 7)
    assert [d.event_id for d in hooks.accepted("/replay")[4:]] == [str(e.id) for e in events]
    rows = await notify.deliveries_of(sub.id)
    assert [r.replay for r in rows] == [False] * 3 + [True] * 4

    with pytest.raises(RuleViolation, match="more than 2 events"):
        await deliveries.replay(
            sub.id, deliveries.Replay(since=before, until=after), notify.unit_of_work(), max_events=2
        )


async def test_a_private_target_is_refused_at_delivery_when_not_allowed(notify: Notify, hooks: Receiver) -> None:
    sub = await notify.subscribe(hooks.url("/private"))
    hooks.secrets["/private"] = [sub.secret]
    notify.settings = notify.settings.model_copy(update={"webhook_allow_private_targets": False})
    await notify.consume(event("incident.created.v1", "INC1"))
    await notify.deliver()
    assert hooks.at("/private") == []
    [row] = await notify.deliveries_of(sub.id)
    assert row.status == "pending" and row.attempts == 1
    assert row.last_status_code is None
    assert "not public (127.0.0.1)" in row.last_error


async def test_old_events_are_forgotten_but_those_a_pending_delivery_needs(notify: Notify, hooks: Receiver) -> None:
    sub = await notify.subscribe(hooks.url("/retention"), "incident.held.v1")
    hooks.secrets["/retention"] = [sub.secret]
    hooks.scripts["/retention"] = [503]
    held, delivered_elsewhere, unmatched = (
        event("incident.held.v1", "INC1"),
        event("incident.other.v1", "INC2"),
        event("change.created.v1", "CHG1"),
    )
    await notify.consume(held, delivered_elsewhere, unmatched)
    await notify.deliver()
    async with notify.engine.begin() as conn:  # received 40 days ago
        e = tables.received_event
        await conn.execute(update(e).values(received_at=datetime.now(UTC) - timedelta(days=40)))
    fresh = event("incident.other.v1", "INC3")
    await notify.consume(fresh)

    await worker.forget_old_events(JobContext(notify.unit_of_work, notify.engine, notify.settings, datetime.now(UTC)))

    async with notify.engine.connect() as conn:
        kept = set((await conn.scalars(select(tables.received_event.c.id))).all())
    assert kept == {held.id, fresh.id}
