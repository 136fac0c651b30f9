"""The token source of the XOAUTH2 login (`store.oauth`) against a token endpoint over HTTP on
loopback (tests/notify/identity.py): the client-credentials form it sends (grant, client id and
secret, scope), a token kept until shortly before it expires (and kept for a default lifetime when
the endpoint gives none), `fresh` asking anew, and each way of getting no token (refused client,
another error with its description, no usable `access_token`, not JSON, nobody listening) raising a
TokenError that says why and never holds the secret. A static token is used as it is."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from services.notify.store import oauth
from services.notify.store.oauth import OAuthConfig, TokenError, access_token
from tests.notify.identity import Provider, identity_provider
from tests.notify.receiver import free_port

pytestmark = pytest.mark.asyncio(loop_scope="session")

SECRET = "the-client-secret"


@pytest.fixture
def provider() -> Iterator[Provider]:
    oauth.forget_tokens()
    with identity_provider("desk@example.test", client_secret=SECRET) as provider:
        yield provider
    oauth.forget_tokens()


def config(provider: Provider, secret: str = SECRET, url: str = "") -> OAuthConfig:
    return OAuthConfig(
        token_url=url or provider.token_url,
        client_id=provider.client_id,
        client_secret=secret,
        scope="https://outlook.office365.com/.default",
        timeout_s=10.0,
    )


async def test_a_static_token_is_used_as_it_is() -> None:
    assert await access_token(OAuthConfig(token="minted-outside")) == "minted-outside"
    assert await access_token(OAuthConfig(token="minted-outside"), fresh=True) == "minted-outside"


async def test_the_grant_is_asked_once_kept_and_asked_anew_when_fresh_or_near_its_end(provider: Provider) -> None:
    first = await access_token(config(provider))
    assert await access_token(config(provider)) == first
    assert provider.issued == [first] and provider.scopes == ["https://outlook.office365.com/.default"]
    renewed = await access_token(config(provider), fresh=True)
    assert renewed != first and provider.issued == [first, renewed]
    assert await access_token(config(provider)) == renewed

    provider.expires_in = 60  # renewed halfway through a short lifetime: at 30 s, so still kept now
    oauth.forget_tokens()
    short = await access_token(config(provider))
    assert await access_token(config(provider)) == short
    provider.expires_in = 0
    oauth.forget_tokens()
    await access_token(config(provider))
    await access_token(config(provider))
    assert len(provider.issued) == 5, "a token whose lifetime is over is not kept"

    provider.token_answer = (200, json.dumps({"access_token": "no-lifetime", "token_type": "Bearer"}).encode())
    oauth.forget_tokens()
    assert await access_token(config(provider)) == "no-lifetime"
    provider.token_answer = (500, b"{}")
    assert await access_token(config(provider)) == "no-lifetime", "no expires_in: kept for a default lifetime"


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (None, "answered 401 invalid_client: client authentication failed (check the client id and secret)"),
        ((400, b'{"error":"invalid_scope","error_description":"AADSTS70011: bad scope"}'), "400 invalid_scope: AADSTS"),
        ((200, b'{"token_type":"Bearer","expires_in":3600}'), "answered no usable access_token"),
        ((200, b'{"access_token":"has\\u0001a control"}'), "answered no usable access_token"),
        ((200, b"<html>sign in</html>"), "answered no usable access_token"),
        ((502, b"Bad Gateway"), "answered 502"),
    ],
)
async def test_no_token_says_why_and_not_the_secret(
    provider: Provider, answer: tuple[int, bytes] | None, says: str
) -> None:
    provider.token_answer = answer
    with pytest.raises(TokenError, match="token endpoint") as raised:
        await access_token(config(provider, secret="not-the-secret" if answer is None else SECRET))
    assert says in str(raised.value)
    assert "not-the-secret" not in str(raised.value) and SECRET not in str(raised.value)
    assert provider.issued == []


async def test_an_endpoint_nobody_listens_on_is_not_reached(provider: Provider) -> None:
    with pytest.raises(TokenError, match="not reached: ConnectError"):
        await access_token(config(provider, url=f"http://127.0.0.1:{free_port()}/token"))
