"""E-mail intake over TLS, against a real Dovecot that requires it, with a self-signed certificate
the test writes (`openssl`): implicit TLS on the IMAPS port and STARTTLS on the IMAP port take the
mail, each verifying the server's certificate against `NOTIFY_MAIL_IMAP_CA_FILE` (and Dovecot logs
both logins as over TLS); a certificate the client does not trust, and STARTTLS asked of a server
that does not offer it (a plain Dovecot, which would take a login in clear) take nothing. Skipped
without Dovecot or openssl."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from services.notify.store import tables
from services.notify.usecases import intake
from tests.infra import Servers
from tests.notify.helpers import Notify
from tests.notify.imap import DOVECOT, OPENSSL, Imap, dovecot
from tests.notify.integration.test_intake import mail, notify_database

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(DOVECOT is None or OPENSSL is None, reason="Dovecot or openssl is not installed"),
]

DESK = "desk@example.test"


@pytest.fixture(scope="module")
def imap() -> Iterator[Imap]:
    with dovecot(DESK, tls=True) as server:
        yield server


@pytest.fixture(scope="module")
def plain_imap() -> Iterator[Imap]:
    with dovecot(DESK) as server:
        yield server


@pytest.fixture(scope="module")
async def notify_module(servers: Servers, make_settings: Callable[..., Any]) -> AsyncIterator[Notify]:
    async with notify_database(servers, make_settings, "mailtls") as notify:
        yield notify


@pytest.fixture
async def notify(notify_module: Notify) -> Notify:
    async with notify_module.engine.begin() as conn:
        await conn.execute(tables.mail_intake.delete())
        await conn.execute(tables.outbox.delete())
    return notify_module


def config_for(notify: Notify, port: int, user: str, **overrides: Any) -> intake.IntakeConfig:
    settings = notify.settings.model_copy(
        update={
            "mail_imap_host": "127.0.0.1",
            "mail_imap_port": port,
            "mail_imap_username": user,
            "mail_imap_password": SecretStr("secret"),
            "mail_imap_timeout_s": 10.0,
            **overrides,
        }
    )
    return intake.intake_config_of(settings)


async def subjects(notify: Notify) -> list[str]:
    async with notify.engine.connect() as conn:
        return list(await conn.scalars(select(tables.mail_intake.c.subject).order_by(tables.mail_intake.c.seq)))


def new_mail(imap: Imap, subject: str) -> None:
    imap.append(mail(f"user{uuid.uuid4().hex[:6]}@example.test", subject).as_bytes())


def logins(imap: Imap) -> tuple[int, int]:
    """(over TLS, in clear): Dovecot marks each login `TLS`, or `secured` when it came in clear from
    its own host (which it allows)."""
    lines = [line for line in imap.log().splitlines() if "Login: user=" in line]
    return sum(", TLS," in line for line in lines), sum(", secured," in line for line in lines)


async def test_implicit_tls_and_starttls_take_the_mail_verifying_the_certificate(notify: Notify, imap: Imap) -> None:
    trusted = {"mail_imap_ca_file": imap.ca_file}
    implicit = config_for(notify, imap.tls_port, imap.user, mail_imap_tls=True, **trusted)
    upgraded = config_for(notify, imap.port, imap.user, mail_imap_tls=False, mail_imap_starttls=True, **trusted)
    for config, subject in ((implicit, "over implicit TLS"), (upgraded, "over STARTTLS")):
        new_mail(imap, subject)
        tls, clear = logins(imap)
        assert await intake.run_pass(notify.unit_of_work, config) == 1, imap.log()
        assert logins(imap) == (tls + 1, clear), f"{subject}: the pass logged in over TLS"
    assert await subjects(notify) == ["over implicit TLS", "over STARTTLS"]


async def test_no_tls_an_untrusted_certificate_or_a_server_without_starttls_take_nothing(
    notify: Notify, imap: Imap, plain_imap: Imap
) -> None:
    new_mail(imap, "waits for a trusted connection")
    for untrusted in (
        config_for(notify, imap.tls_port, imap.user, mail_imap_tls=True),
        config_for(notify, imap.port, imap.user, mail_imap_tls=False, mail_imap_starttls=True),
    ):
        assert await intake.run_pass(notify.unit_of_work, untrusted) == 0, "the system does not trust the certificate"
    assert await subjects(notify) == []
    flags = imap.flags()
    assert "\\Seen" not in flags[max(flags)], "the message waits on the server"

    plain_imap.empty()
    new_mail(plain_imap, "never sent in clear")
    no_starttls = config_for(notify, plain_imap.port, plain_imap.user, mail_imap_tls=False, mail_imap_starttls=True)
    assert await intake.run_pass(notify.unit_of_work, no_starttls) == 0, "no STARTTLS offered: no login in clear"
    assert await subjects(notify) == []
