"""The survey link in the caller's resolution mail, through a real Exim and the worker's event
handler: with the incident service's link key, the caller's resolution mail waits for the survey;
`survey.issued.v1` for that incident puts the signed link into it (one the incident service's own
verifier accepts) and sends it at once; another recipient of the same resolution gets no link; a
resolution without a survey goes without one when the wait ends; without the key nothing waits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from services.incident.domain.surveys import verify_link
from services.notify import worker
from services.notify.domain.recipients import Kind, Recipient
from services.notify.usecases import notifications
from shared import clock
from shared.events import CloudEvent, new_event
from shared.events.survey import SurveyIssued
from tests.infra import eventually
from tests.notify.helpers import Notify
from tests.notify.integration.test_mail import MAIL, messages, resolved
from tests.notify.mta import EXIM, Mta, exim

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(EXIM is None, reason="Exim (exim4-daemon-light) is not installed"),
]

SECRET = "survey-key-shared-with-incident"
PAGE = "http://desk.test/survey"


@pytest.fixture
def mta() -> Iterator[Mta]:
    with exim(["ada", "bob", "carol"]) as server:
        yield server


def issued(incident_id: uuid.UUID, respondent: str) -> CloudEvent:
    now = datetime.now(UTC)
    data = SurveyIssued(
        survey_id=uuid.uuid4(),
        number="SRV0000001",
        ticket_kind="incident",
        ticket_id=incident_id,
        ticket_number="INC0000042",
        respondent=respondent,
        issued_at=now,
        expires_at=now + timedelta(days=14),
        occurred_at=now,
        sampling_rate=1.0,
    )
    return new_event(data, source="/itsm/incident", subject=str(data.survey_id))


def with_mail(notify: Notify, mta: Mta, **more: object) -> Notify:
    settings = notify.settings.model_copy(
        update={**MAIL, "mail_smtp_port": mta.port, "mail_recipient_domain": mta.domain, **more}
    )
    return Notify(notify.engine, notify.url, settings)


async def send_all(notify: Notify) -> int:
    config = notifications.mail_config_of(notify.settings)
    sent = 0
    while n := await notifications.deliver_mail(notify.unit_of_work, config):
        sent += n
    return sent


async def test_the_callers_resolution_mail_carries_the_survey_link(notify: Notify, mta: Mta) -> None:
    desk = with_mail(notify, mta, survey_link_secret=SecretStr(SECRET), survey_page_url=PAGE, mail_survey_wait_s=600)
    await notifications.create_rule(
        notifications.NewRule(
            name="resolved: tell the team mailbox",
            event_pattern="incident.resolved.v1",
            template="incident_resolved",
            recipient_fields=[],
            data_filter={},
            recipients=[Recipient(Kind.ADDRESS, mta.address("bob"))],
        ),
        "admin",
        desk.unit_of_work(),
    )
    sampled, unsampled = uuid.uuid4(), uuid.uuid4()
    started = datetime.now(UTC)
    await desk.consume_with(
        worker.on_event,
        resolved("ada", incident_id=sampled),
        resolved("carol", incident_id=unsampled, number="INC0000043"),
    )
    assert await send_all(desk) == 2, "the team mailbox's two copies go at once"
    waiting = [m for m in await messages(desk) if m.status == "pending"]
    assert sorted(m.recipient for m in waiting) == [mta.address("ada"), mta.address("carol")]
    assert all(m.next_attempt_at >= started + timedelta(seconds=600) for m in waiting), "the callers' wait"

    survey = issued(sampled, "ada")
    await desk.consume_with(worker.on_event, survey)
    assert await send_all(desk) == 1, "ada's mail goes as soon as its survey came"

    async def arrived() -> None:
        assert [len(mta.mailbox(u)) for u in ("ada", "bob", "carol")] == [1, 2, 0], mta.log()

    await eventually(arrived)
    (mail,) = mta.mailbox("ada")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert f"How did we do? One question, one click: {PAGE}/" in text
    token = text.split(f"{PAGE}/", 1)[1].split()[0]
    assert f'href="{PAGE}/{token}"' in html
    verified = verify_link(token, datetime.now(UTC), SECRET.encode())
    assert verified == (
        uuid.UUID(survey.data["survey_id"]),
        datetime.fromisoformat(survey.data["expires_at"]).replace(microsecond=0),
    ), "the incident service's own verifier accepts the link"
    for copy in mta.mailbox("bob"):
        assert PAGE not in copy.get_body(("plain",)).get_content(), "the link is the caller's alone"

    with clock.occurring_at(datetime.now(UTC) + timedelta(seconds=601)):
        assert await send_all(desk) == 1, "carol's resolution had no survey: it goes when the wait ends"

    async def carol() -> None:
        assert len(mta.mailbox("carol")) == 1

    await eventually(carol)
    assert PAGE not in mta.mailbox("carol")[0].get_body(("plain",)).get_content()


async def test_without_the_link_key_nothing_waits(notify: Notify, mta: Mta) -> None:
    desk = with_mail(notify, mta)
    incident_id = uuid.uuid4()
    await desk.consume_with(worker.on_event, resolved("ada", incident_id=incident_id))
    assert await send_all(desk) == 1
    await desk.consume_with(worker.on_event, issued(incident_id, "ada"))
    assert await send_all(desk) == 0
    assert [m.status for m in await messages(desk)] == ["sent"]
