"""An agreed report run announced by reporting (`report.run_completed.v1`) is mailed by its default
rule through a real Exim: to the report's owner, each party it is agreed with that stands for an
address, and the service level managers of the directory, once each, with a plain-text and an
HTML part naming the run and where to read it; and the event published on the broker reaches the
owner's mailbox through the running service (its queue takes the new routing key)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from services.notify.app import create_app
from services.notify.domain.recipients import Person
from services.notify.settings import NotifySettings
from services.notify.usecases import notifications
from shared.events import CloudEvent, new_event
from shared.events.report import ReportRunCompleted
from tests.conftest import running
from tests.infra import Servers, eventually
from tests.notify.helpers import FAST_RETRIES, Notify
from tests.notify.integration.test_mail import MAIL, config_for, consume, messages
from tests.notify.integration.test_replicas_and_broker import publish
from tests.notify.mta import EXIM, Mta, exim

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(EXIM is None, reason="Exim (exim4-daemon-light) is not installed"),
]
USERS = ["olive", "dana", "sam", "carol"]


@pytest.fixture
def mta() -> Iterator[Mta]:
    with exim(USERS) as server:
        yield server


def run_completed(owner: str = "olive", agreed_with: tuple[str, ...] = ("customer board", "dana")) -> CloudEvent:
    run_id = uuid.uuid4()
    data = ReportRunCompleted(
        run_id=run_id,
        report="service-levels",
        title="Service levels: response & resolution <compliance>",
        frequency="weekly",
        period_start=datetime(2026, 11, 30, tzinfo=UTC),
        period_end=datetime(2026, 12, 7, tzinfo=UTC),
        row_count=12,
        agreement_version=2,
        owner=owner,
        agreed_with=list(agreed_with),
        distribution_count=1,
        content_sha256="ab" * 32,
        link=f"/api/v1/report-runs/{run_id}",
        download=f"/api/v1/report-runs/{run_id}/download",
        generated_at=datetime(2026, 12, 7, 3, tzinfo=UTC),
    )
    return new_event(data, source="/itsm/reporting", subject=str(run_id))


async def test_a_report_run_is_mailed_to_its_owner_parties_and_the_service_level_managers(
    notify: Notify, mta: Mta
) -> None:
    config = config_for(notify, mta)
    await notifications.put_person(
        Person("sam", mta.address("sam"), roles=("service_level_manager",)), "admin", notify.unit_of_work()
    )
    await notifications.put_person(
        Person("carol", mta.address("carol"), roles=("agent",)), "admin", notify.unit_of_work()
    )
    event = run_completed()
    await consume(notify, config, event)
    await consume(notify, config, event)  # a redelivered event queues nothing twice
    # olive and dana by the recipient domain; "customer board" stands for no address.
    assert [m.recipient for m in await messages(notify)] == [mta.address(u) for u in ("olive", "dana", "sam")]
    assert await notifications.deliver_mail(notify.unit_of_work, config) == 3

    async def delivered() -> None:
        assert [len(mta.mailbox(u)) for u in USERS] == [1, 1, 1, 0], mta.log()

    await eventually(delivered)
    run_id = event.subject
    for user in ("olive", "dana", "sam"):
        (mail,) = mta.mailbox(user)
        assert mail["Subject"] == "Report service-levels: weekly run from 2026-11-30"
        text = mail.get_body(("plain",))
        html = mail.get_body(("html",))
        assert text is not None and html is not None
        plain = text.get_content()
        assert '"Service levels: response & resolution <compliance>" (service-levels)' in plain
        assert "12 rows, under version 2 of its agreement" in plain
        assert "It is agreed with: customer board, dana." in plain
        assert f"The run: /api/v1/report-runs/{run_id}\n" in plain
        assert f"/api/v1/report-runs/{run_id}/download" in plain
        assert "response &amp; resolution &lt;compliance&gt;" in html.get_content(), "the HTML part is autoescaped"
        assert mail["List-Unsubscribe"] is not None, "not mandatory: a recipient may unsubscribe"


async def test_a_report_run_published_on_the_broker_reaches_the_owner_through_the_running_service(
    servers: Servers, service_database: Callable[[str], Any], make_settings: Callable[..., Any], mta: Mta
) -> None:
    settings = make_settings(
        NotifySettings,
        await service_database("notify"),
        queue_prefix=servers.new_queue_prefix("notify"),
        mail_smtp_port=mta.port,
        mail_delivery_interval_s=0.05,
        **MAIL,
        **FAST_RETRIES,
    )
    async with running(create_app(settings)) as client:

        async def consuming() -> None:
            r = await client.get("/readyz")
            assert r.status_code == 200 and r.json()["checks"]["consumer"] == "ok", r.text

        await eventually(consuming)
        await publish(servers, run_completed(agreed_with=()))

        async def arrived() -> None:
            assert len(mta.mailbox("olive")) == 1

        await eventually(arrived)
    (mail,) = mta.mailbox("olive")
    assert mail["Subject"] == "Report service-levels: weekly run from 2026-11-30"
    assert "agreed with" not in mail.get_body(("plain",)).get_content()
