"""E-mail intake with OAuth 2.0 (SASL XOAUTH2), against a real Dovecot whose `oauth2` passdb checks
each bearer token at an identity provider's introspection endpoint (tests/notify/identity.py, on
loopback; the same provider is the token endpoint of the client-credentials grant). A static token
takes the mail (Dovecot logs the login as XOAUTH2); the grant fetches one token and reuses it for
the passes that follow, and fetches anew when a token's lifetime is over; a token the server refuses
(revoked before its `expires_in`) is replaced once and the pass takes the mail, and when the new one
is refused too the pass gives up (one retry); a static token the
server refuses, and a wrong client secret, take nothing, log why (the server's refusal read after
answering its error challenge; the endpoint's `invalid_client`) and never the secret, and the next
pass tries again; aioimaplib's debug log shows neither token nor SASL string. Skipped without Dovecot."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from services.notify.store import oauth, tables
from services.notify.store.imap import sasl_xoauth2
from services.notify.usecases import intake
from tests.infra import Servers
from tests.notify.helpers import Notify
from tests.notify.identity import Provider, identity_provider
from tests.notify.imap import DOVECOT, Imap, dovecot
from tests.notify.integration.test_intake import mail, notify_database

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(DOVECOT is None, reason="Dovecot (dovecot-imapd) is not installed"),
]

DESK = "desk@example.test"
SECRET = "the-client-secret"


@pytest.fixture(scope="module")
def provider_module() -> Iterator[Provider]:
    with identity_provider(DESK, client_secret=SECRET) as provider:
        yield provider


@pytest.fixture(scope="module")
def imap(provider_module: Provider) -> Iterator[Imap]:
    with dovecot(DESK, oauth2_introspection_url=provider_module.introspection_url) as server:
        yield server


@pytest.fixture
def provider(provider_module: Provider) -> Iterator[Provider]:
    """The provider with no token issued or valid, and nothing kept by notify."""
    provider_module.revoke_all()
    provider_module.issued.clear()
    provider_module.scopes.clear()
    provider_module.refused = 0
    provider_module.expires_in = 3600
    provider_module.introspection_active = True
    oauth.forget_tokens()
    yield provider_module
    oauth.forget_tokens()


@pytest.fixture(scope="module")
async def notify_module(servers: Servers, make_settings: Callable[..., Any]) -> AsyncIterator[Notify]:
    async with notify_database(servers, make_settings, "mailoauth") as notify:
        yield notify


@pytest.fixture
async def notify(notify_module: Notify, imap: Imap) -> Notify:
    imap.empty()
    async with notify_module.engine.begin() as conn:
        await conn.execute(tables.mail_intake.delete())
        await conn.execute(tables.outbox.delete())
    return notify_module


def config_for(notify: Notify, imap: Imap, **overrides: Any) -> intake.IntakeConfig:
    settings = notify.settings.model_copy(
        update={
            "mail_imap_host": "127.0.0.1",
            "mail_imap_port": imap.port,
            "mail_imap_tls": False,
            "mail_imap_username": imap.user,
            "mail_imap_auth": "xoauth2",
            "mail_imap_timeout_s": 10.0,
            **overrides,
        }
    )
    return intake.intake_config_of(settings)


def flow(notify: Notify, imap: Imap, provider: Provider, secret: str = SECRET) -> intake.IntakeConfig:
    return config_for(
        notify,
        imap,
        mail_imap_oauth_token_url=provider.token_url,
        mail_imap_oauth_client_id=provider.client_id,
        mail_imap_oauth_client_secret=SecretStr(secret),
        mail_imap_oauth_scope="imap.read",
    )


async def subjects(notify: Notify) -> list[str]:
    async with notify.engine.connect() as conn:
        return list(await conn.scalars(select(tables.mail_intake.c.subject).order_by(tables.mail_intake.c.seq)))


def new_mail(imap: Imap, subject: str) -> None:
    imap.append(mail(f"user{uuid.uuid4().hex[:6]}@example.test", subject).as_bytes())


def xoauth2_logins(imap: Imap) -> int:
    return sum("Login: user=<" in line and "method=XOAUTH2" in line for line in imap.log().splitlines())


def unseen(imap: Imap) -> int:
    return sum("\\Seen" not in flags for flags in imap.flags().values())


async def test_a_static_token_takes_the_mail(notify: Notify, imap: Imap, provider: Provider) -> None:
    new_mail(imap, "with a token minted outside")
    before = xoauth2_logins(imap)
    config = config_for(notify, imap, mail_imap_oauth_token=SecretStr(provider.grant()))
    assert await intake.run_pass(notify.unit_of_work, config) == 1, imap.log()[-2000:]
    assert xoauth2_logins(imap) == before + 1, "the pass logged in with XOAUTH2"
    assert await subjects(notify) == ["with a token minted outside"]
    assert provider.issued == [], "a static token: the token endpoint is not asked"


async def test_the_client_credentials_grant_fetches_one_token_for_many_passes(
    notify: Notify, imap: Imap, provider: Provider
) -> None:
    config = flow(notify, imap, provider)
    for subject in ("first pass", "second pass", "third pass"):
        new_mail(imap, subject)
        assert await intake.run_pass(notify.unit_of_work, config) == 1, imap.log()[-2000:]
    assert len(provider.issued) == 1, "the token is kept until shortly before it expires"
    assert provider.scopes == ["imap.read"]
    assert await subjects(notify) == ["first pass", "second pass", "third pass"]

    provider.expires_in = 0  # a token whose lifetime is over at once: each pass fetches its own
    oauth.forget_tokens()
    for subject in ("short-lived 1", "short-lived 2"):
        new_mail(imap, subject)
        assert await intake.run_pass(notify.unit_of_work, config) == 1
    assert len(provider.issued) == 3


async def test_a_refused_token_is_replaced_once_and_the_pass_takes_the_mail(
    notify: Notify, imap: Imap, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    config = flow(notify, imap, provider)
    new_mail(imap, "before the revocation")
    assert await intake.run_pass(notify.unit_of_work, config) == 1
    provider.revoke_all()  # revoked (or expired early) at the provider: Dovecot's introspection says inactive
    new_mail(imap, "after the revocation")
    with caplog.at_level(logging.INFO):
        assert await intake.run_pass(notify.unit_of_work, config) == 1, caplog.text
    assert len(provider.issued) == 2, "one new token after the refusal"
    assert "refused the token" in caplog.text and "AUTHENTICATIONFAILED" in caplog.text
    assert await subjects(notify) == ["before the revocation", "after the revocation"]

    new_mail(imap, "with the new token")
    assert await intake.run_pass(notify.unit_of_work, config) == 1
    assert len(provider.issued) == 2, "the new token is kept"


async def test_a_new_token_refused_too_fails_the_pass_after_one_retry(
    notify: Notify, imap: Imap, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    new_mail(imap, "waits for access to the mailbox")
    provider.introspection_active = False  # the mailbox's access withdrawn: every token is refused
    config = flow(notify, imap, provider)
    with caplog.at_level(logging.INFO):
        assert await intake.run_pass(notify.unit_of_work, config) == 0
    assert len(provider.issued) == 2, "the refused token and one new one: a single retry"
    assert "AUTHENTICATE XOAUTH2 as desk@example.test: NO" in caplog.text, caplog.text
    assert await subjects(notify) == [] and unseen(imap) == 1


async def test_a_refused_static_token_takes_nothing_and_says_why(
    notify: Notify, imap: Imap, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    new_mail(imap, "waits for a valid token")
    token = provider.grant()
    provider.revoke(token)
    config = config_for(notify, imap, mail_imap_oauth_token=SecretStr(token))
    with caplog.at_level(logging.DEBUG):  # aioimaplib's debug log shows what it sends, scrubbed
        assert await intake.run_pass(notify.unit_of_work, config) == 0
    # the server's tagged NO and its JSON error: read after answering its challenge (not a timeout)
    assert "AUTHENTICATE XOAUTH2 as desk@example.test: NO" in caplog.text, caplog.text
    assert '"status":"401"' in caplog.text
    assert token not in caplog.text and sasl_xoauth2(DESK, token) not in caplog.text
    assert await subjects(notify) == [] and unseen(imap) == 1
    assert provider.issued == [], "a static token is not refreshed"


async def test_a_wrong_client_secret_takes_nothing_says_why_and_the_next_pass_tries_again(
    notify: Notify, imap: Imap, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    new_mail(imap, "waits for the right secret")
    wrong = flow(notify, imap, provider, secret="not-the-secret")
    with caplog.at_level(logging.DEBUG):
        assert await intake.run_pass(notify.unit_of_work, wrong) == 0
        assert await intake.run_pass(notify.unit_of_work, wrong) == 0
    assert provider.refused == 2, "each pass asks again"
    assert "token endpoint" in caplog.text and "401 invalid_client" in caplog.text, caplog.text
    assert "check the client id and secret" in caplog.text
    assert "not-the-secret" not in caplog.text
    assert await subjects(notify) == [] and unseen(imap) == 1

    assert await intake.run_pass(notify.unit_of_work, flow(notify, imap, provider)) == 1
    assert await subjects(notify) == ["waits for the right secret"]
