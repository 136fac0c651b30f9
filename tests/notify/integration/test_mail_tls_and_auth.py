"""notify's SMTP edge against a real Exim that offers STARTTLS and implicit TLS with a self-signed
certificate and accepts mail only after SMTP AUTH: a message goes over STARTTLS with AUTH (port
587's way) and over implicit TLS (port 465's way), the server's log says so; an untrusted
certificate, a wrong password and no TLS at all deliver nothing and say why."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.notify.settings import NotifySettings
from services.notify.store.mail import SmtpConfig, SmtpSession, message_of
from tests.infra import eventually
from tests.notify.imap import OPENSSL
from tests.notify.mta import EXIM, Mta, exim

pytestmark = pytest.mark.skipif(EXIM is None or OPENSSL is None, reason="needs Debian's exim4-daemon-light and openssl")

USER, PASSWORD = "desk", "s3cret-desk"


@pytest.fixture(scope="module")
def mta() -> Iterator[Mta]:
    with exim(["ada"], tls=True, auth=(USER, PASSWORD)) as server:
        yield server


def _config(mta: Mta, **changes: Any) -> SmtpConfig:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": mta.port,
        "starttls": True,
        "username": USER,
        "password": PASSWORD,
        "timeout_s": 10,
        "sender": "Service Desk <desk@example.test>",
        "reply_to": "",
        "ca_file": mta.ca_file,
    }
    return SmtpConfig(**(values | changes))


async def _send(config: SmtpConfig, subject: str) -> str | None:
    message = message_of(
        config.sender, "", "ada@example.test", subject, "text", "<p>html</p>", f"<{uuid.uuid4()}@example.test>"
    )
    async with SmtpSession(config) as session:
        return await session.send(message)


def _subjects(mta: Mta) -> list[str]:
    return [str(m["Subject"]) for m in mta.mailbox("ada")]


def _arrival(mta: Mta, subject: str) -> str:
    """Exim's `<=` log line of the message whose subject is given (its id is in the Maildir file)."""
    lines = [line for line in mta.log().splitlines() if " <= " in line]
    return next(line for line in reversed(lines) if f'T="{subject}"' in line)


@pytest.mark.asyncio(loop_scope="session")
async def test_starttls_with_auth_and_implicit_tls_deliver_and_the_server_saw_both(mta: Mta) -> None:
    assert await _send(_config(mta), "over starttls") is None, mta.log()
    assert await _send(_config(mta, port=mta.tls_port, starttls=False, tls=True), "over implicit tls") is None

    async def delivered() -> None:  # Exim delivers after it has accepted
        assert {"over starttls", "over implicit tls"} <= set(_subjects(mta))

    await eventually(delivered, within_s=15)
    for subject in ("over starttls", "over implicit tls"):
        line = _arrival(mta, subject)
        assert re.search(r" X=TLS", line), line  # the message came encrypted
        assert re.search(rf" A=(plain|login):{USER}\b", line), line  # and authenticated


@pytest.mark.asyncio(loop_scope="session")
async def test_an_untrusted_certificate_a_wrong_password_or_no_tls_deliver_nothing(mta: Mta) -> None:
    before = len(_subjects(mta))
    untrusted = await _send(_config(mta, ca_file=""), "untrusted")  # the system's CAs do not know it
    assert untrusted is not None and "CERTIFICATE_VERIFY_FAILED" in untrusted
    wrong = await _send(_config(mta, password="guess"), "wrong password")
    assert wrong is not None and "535" in wrong
    clear = await _send(_config(mta, starttls=False), "in clear")  # AUTH is offered only over TLS
    assert clear is not None
    assert not [line for line in mta.log().splitlines() if " <= " in line and 'T="' in line and "untrusted" in line]
    assert len(_subjects(mta)) == before  # nothing was accepted, so nothing is on its way either


def test_implicit_tls_and_starttls_together_are_a_settings_error() -> None:
    with pytest.raises(ValueError, match="mail_smtp_starttls upgrades a plain connection"):
        NotifySettings(mail_smtp_tls=True, mail_smtp_starttls=True)
