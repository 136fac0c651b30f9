"""The supplier access register's notices (`supplier.access_review_due.v1`,
`supplier.access_expired.v1`) are mailed by their default rules through a real Exim to the grant's
owner on our side, and to nobody else, with a plain-text and an HTML part naming the grant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from services.notify.domain.recipients import Person
from services.notify.usecases import notifications
from shared.events import CloudEvent, new_event
from shared.events.supplier import SupplierAccessExpired, SupplierAccessReviewDue
from tests.infra import eventually
from tests.notify.helpers import Notify
from tests.notify.integration.test_mail import config_for, consume, messages
from tests.notify.mta import EXIM, Mta, exim

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(EXIM is None, reason="Exim (exim4-daemon-light) is not installed"),
]
USERS = ["olga", "carol"]


@pytest.fixture
def mta() -> Iterator[Mta]:
    with exim(USERS) as server:
        yield server


def common(grant_id: uuid.UUID) -> dict[str, object]:
    return {
        "grant_id": grant_id,
        "number": "ACC0000042",
        "supplier_id": uuid.uuid4(),
        "contract_id": uuid.uuid4(),
        "system": "payroll <database>",
        "access_type": "remote_support",
        "classification": "confidential",
        "owner": "olga",
        "expires_on": datetime(2027, 6, 30, tzinfo=UTC),
        "actor": "access-watcher",
        "occurred_at": datetime(2026, 12, 7, 3, tzinfo=UTC),
    }


def review_due() -> CloudEvent:
    grant_id = uuid.uuid4()
    data = SupplierAccessReviewDue(
        status="under_review", next_review_on=datetime(2026, 12, 6, tzinfo=UTC), **common(grant_id)
    )
    return new_event(data, source="/itsm/supplier", subject=str(grant_id))


async def test_an_access_review_due_becomes_one_mail_to_the_grants_owner(notify: Notify, mta: Mta) -> None:
    config = config_for(notify, mta)
    # A contract manager of the directory: not an addressee of these rules.
    await notifications.put_person(
        Person("carol", mta.address("carol"), roles=("contract_manager",)), "admin", notify.unit_of_work()
    )
    event = review_due()
    await consume(notify, config, event)
    await consume(notify, config, event)  # a redelivered event queues nothing twice
    assert [m.recipient for m in await messages(notify)] == [mta.address("olga")]
    assert await notifications.deliver_mail(notify.unit_of_work, config) == 1

    async def delivered() -> None:
        assert [len(mta.mailbox(u)) for u in USERS] == [1, 0], mta.log()

    await eventually(delivered)
    (mail,) = mta.mailbox("olga")
    assert mail["Subject"] == "Supplier access ACC0000042: review due since 2026-12-06"
    text, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert text is not None and html is not None
    plain = text.get_content()
    assert "was due for review on 2026-12-06 and is now under review" in plain
    assert "remote support access to payroll <database>, reaching confidential information, until 2027-06-30" in plain
    assert f"/api/v1/access-grants/{event.subject}" in plain
    assert "payroll &lt;database&gt;" in html.get_content(), "the HTML part is autoescaped"
    assert mail["List-Unsubscribe"] is not None, "not mandatory: the owner may unsubscribe"


async def test_an_expired_access_is_mailed_to_the_grants_owner(notify: Notify, mta: Mta) -> None:
    config = config_for(notify, mta)
    grant_id = uuid.uuid4()
    data = SupplierAccessExpired(status="expired", **common(grant_id))
    await consume(notify, config, new_event(data, source="/itsm/supplier", subject=str(grant_id)))
    assert [m.recipient for m in await messages(notify)] == [mta.address("olga")]
    assert await notifications.deliver_mail(notify.unit_of_work, config) == 1

    async def delivered() -> None:
        assert len(mta.mailbox("olga")) == 1, mta.log()

    await eventually(delivered)
    (mail,) = mta.mailbox("olga")
    assert mail["Subject"] == "Supplier access ACC0000042 expired on 2027-06-30"
    text = mail.get_body(("plain",))
    assert text is not None and "reached its expiry on 2027-06-30 and has ended" in text.get_content()
