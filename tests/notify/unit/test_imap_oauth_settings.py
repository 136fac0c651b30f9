"""The IMAP OAuth settings: `mail_imap_auth=xoauth2` needs the mailbox's name and exactly one
source of tokens (a static token, or a token URL with the client's id and secret); OAuth settings
without it, a token that cannot go into a SASL string, and a client secret sent in clear to
another host are refused when the settings are read, each naming the setting. The intake's IMAP
configuration carries the token source (no secret in its repr), and the XOAUTH2 initial response
is built as RFC 7628's Google/Microsoft variant says."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from services.notify.settings import NotifySettings
from services.notify.store.imap import sasl_xoauth2
from services.notify.store.oauth import OAuthConfig
from services.notify.usecases.intake import intake_config_of

USER = {"mail_imap_username": "desk@example.com"}
FLOW = {
    "mail_imap_oauth_token_url": "https://login.example.com/tenant/oauth2/v2.0/token",
    "mail_imap_oauth_client_id": "client",
    "mail_imap_oauth_client_secret": SecretStr("s3cret-value"),
}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mail_imap_oauth_token": SecretStr("t")}, "used with mail_imap_auth=xoauth2 only"),
        ({"mail_imap_oauth_token_url": "https://idp.example/token"}, "used with mail_imap_auth=xoauth2 only"),
        ({"mail_imap_auth": "xoauth2", "mail_imap_oauth_token": SecretStr("t")}, "needs mail_imap_username"),
        ({"mail_imap_auth": "xoauth2", **USER}, "needs one source of tokens"),
        (
            {"mail_imap_auth": "xoauth2", **USER, **FLOW, "mail_imap_oauth_token": SecretStr("t")},
            "needs one source of tokens",
        ),
        (
            {
                "mail_imap_auth": "xoauth2",
                **USER,
                "mail_imap_oauth_token": SecretStr("t"),
                "mail_imap_oauth_scope": "s",
            },
            "mail_imap_oauth_token is used as it is",
        ),
        (
            {"mail_imap_auth": "xoauth2", **USER, "mail_imap_oauth_token": SecretStr("a token")},
            "printable ASCII without spaces",
        ),
        (
            {"mail_imap_auth": "xoauth2", **USER, **FLOW, "mail_imap_oauth_client_secret": SecretStr("")},
            "needs mail_imap_oauth_client_id and mail_imap_oauth_client_secret",
        ),
        (
            {"mail_imap_auth": "xoauth2", **USER, **FLOW, "mail_imap_oauth_token_url": "http://idp.example/token"},
            "mail_imap_oauth_token_url: an https URL",
        ),
        ({"mail_imap_auth": "xoauth2", **USER, **FLOW, "mail_imap_oauth_token_url": "idp"}, "an https URL"),
        ({"mail_imap_auth": "oauth"}, "mail_imap_auth"),
    ],
)
def test_incomplete_or_contradicting_oauth_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        NotifySettings(**settings)
    assert "s3cret-value" not in str(raised.value)


def test_the_intake_config_carries_the_token_source_and_hides_its_secrets() -> None:
    assert intake_config_of(NotifySettings()).imap.oauth is None, "password: LOGIN as before"
    static = intake_config_of(NotifySettings(mail_imap_auth="xoauth2", **USER, mail_imap_oauth_token=SecretStr("tk")))
    assert static.imap.oauth == OAuthConfig(token="tk", timeout_s=30.0)
    assert not static.imap.oauth.refreshable
    flow = NotifySettings(mail_imap_auth="xoauth2", **USER, **FLOW, mail_imap_oauth_scope="https://x/.default")
    oauth = intake_config_of(flow).imap.oauth
    assert oauth is not None and oauth.refreshable
    assert (oauth.token_url, oauth.client_id, oauth.client_secret, oauth.scope) == (
        FLOW["mail_imap_oauth_token_url"],
        "client",
        "s3cret-value",
        "https://x/.default",
    )
    loopback = NotifySettings(
        mail_imap_auth="xoauth2", **USER, **(FLOW | {"mail_imap_oauth_token_url": "http://127.0.0.1:1/t"})
    )
    assert intake_config_of(loopback).imap.oauth is not None
    text = repr(intake_config_of(flow)) + repr(static)
    assert "s3cret-value" not in text and "'tk'" not in text


def test_the_xoauth2_initial_response() -> None:
    sasl = base64.b64decode(sasl_xoauth2("desk@example.com", "ya29.token"))
    assert sasl == b"user=desk@example.com\x01auth=Bearer ya29.token\x01\x01"
