"""The proof under replicas: events published on RabbitMQ through two notify worker processes
(`itsm worker notify`, each with its consumer and its delivery jobs) on PostgreSQL send each
message exactly once, counted where it lands: every e-mail once (by Message-ID) in the Maildirs
of a real Exim, every webhook once (by `webhook-id`) at a real receiver that verifies it.

The suite runs it with 100 events (`NOTIFY_REPLICA_EVENTS`); `make notify-replicas` runs 1,000
(the figure is in docs/notifications.md)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import httpx
import pytest

from services.notify.settings import NotifySettings
from services.notify.usecases import subscriptions
from shared.db import create_engine
from tests.infra import Servers, eventually
from tests.notify.helpers import Notify
from tests.notify.integration.test_mail import resolved
from tests.notify.integration.test_replicas_and_broker import publish
from tests.notify.mta import EXIM, exim
from tests.notify.receiver import receiver
from tests.replicas import deployment

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(EXIM is None, reason="Exim (exim4-daemon-light) is not installed"),
]

EVENTS = int(os.environ.get("NOTIFY_REPLICA_EVENTS", "100"))
USERS = [f"user{i}" for i in range(5)]


async def test_events_through_two_notifier_replicas_send_each_message_exactly_once(
    servers: Servers, tmp_path: Path
) -> None:
    with exim(USERS) as mta:
        async with receiver() as hooks, deployment(servers, tmp_path, ["notify"], label="nrep") as deployed:
            url = deployed.database_urls["notify"]
            engine = create_engine(url)
            try:
                admin = Notify(engine, url, NotifySettings(database_url=url, webhook_allow_private_targets=True))
                sub = await subscriptions.create_subscription(
                    subscriptions.NewSubscription(url=hooks.url("/replicas"), event_pattern="incident.resolved.v1"),
                    "ada",
                    admin.unit_of_work(),
                    allow_private=True,
                )
            finally:
                await engine.dispose()
            hooks.secrets["/replicas"] = [sub.secret]
            env = {
                "NOTIFY_MAIL_SMTP_HOST": "127.0.0.1",
                "NOTIFY_MAIL_SMTP_PORT": str(mta.port),
                "NOTIFY_MAIL_FROM": "Service Desk <desk@itsm.test>",
                "NOTIFY_MAIL_RECIPIENT_DOMAIN": mta.domain,
                "NOTIFY_MAIL_DELIVERY_INTERVAL_S": "0.05",
                "NOTIFY_WEBHOOK_DELIVERY_INTERVAL_S": "0.05",
                "NOTIFY_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            }
            workers = [deployed.add("notify", "worker", env=env) for _ in range(2)]
            async with httpx.AsyncClient(timeout=10) as http:
                await deployed.start_all(http)
            assert (await deployed.queue_counts("notify"))[1] == 2, "both replicas consume the queue"

            sent = [resolved(USERS[i % len(USERS)], title=f"case {i}", number=f"INC{i:07d}") for i in range(EVENTS)]
            await publish(servers, *sent, exchange_name=deployed.exchange)

            def landed() -> int:  # files in the Maildirs (cheaper than parsing them on every probe)
                return sum(
                    len(list((mta.home / "mail" / u / "Maildir" / part).glob("*")))
                    for u in USERS
                    for part in ("new", "cur")
                    if (mta.home / "mail" / u / "Maildir" / part).exists()
                )

            async def all_landed() -> None:
                for w in workers:
                    assert w.running, w.output()
                assert landed() >= EVENTS, f"{landed()} mails"
                assert len(hooks.accepted("/replicas")) >= EVENTS, f"{len(hooks.accepted('/replicas'))} webhooks"

            await eventually(all_landed, within_s=60 + EVENTS * 1.0, interval=0.2)
            statuses = await deployed.stop_all()  # nothing more can come: the count is final
            assert all(s == 0 for s in statuses.values()), statuses
        received = [m for u in USERS for m in mta.mailbox(u)]

    ids = [m["Message-ID"] for m in received]
    assert len(ids) == EVENTS and len(set(ids)) == EVENTS, "every e-mail exactly once, by Message-ID"
    subjects = Counter(m["Subject"].split()[0] for m in received)
    assert set(subjects) == {f"INC{i:07d}" for i in range(EVENTS)} and set(subjects.values()) == {1}
    hook_ids = [d.headers["webhook-id"] for d in hooks.accepted("/replicas")]
    assert sorted(hook_ids) == sorted(str(e.id) for e in sent), "every webhook exactly once, by webhook-id"
    assert hooks.refused == []
