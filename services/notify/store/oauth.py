"""The OAuth 2.0 edge of e-mail intake: the access token the IMAP login presents with SASL XOAUTH2.
Either a static token minted outside (`NOTIFY_MAIL_IMAP_OAUTH_TOKEN`), or one fetched with the
client-credentials grant (RFC 6749 4.4) from the provider's token endpoint (httpx), the client
authenticated with its id and secret in the form (`client_secret_post`). A fetched token is kept
in this process until shortly before its `expires_in`, shared by the passes that follow, and
fetched again when the IMAP server refuses it (`fresh=True`). Neither secret nor token is logged."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field

import httpx

log = logging.getLogger(__name__)

EARLY_S = 60.0
"""A token is fetched again this long before it expires (half its lifetime when that is shorter)."""
DEFAULT_EXPIRES_S = 300.0
"""How long a token is kept when the endpoint does not say (`expires_in` is only RECOMMENDED)."""
MAX_TOKEN_CHARS = 16_384


class TokenError(Exception):
    """No token: the endpoint refused the client, answered something else, or was not reached."""


@dataclass(frozen=True)
class OAuthConfig:
    token: str = field(default="", repr=False)
    """A static access token; used as it is (nothing to refresh) when no token URL is set."""
    token_url: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    scope: str = ""
    timeout_s: float = 30.0

    @property
    def refreshable(self) -> bool:
        return bool(self.token_url)

    @property
    def cache_key(self) -> tuple[str, str, str, str]:
        secret = hashlib.sha256(self.client_secret.encode()).hexdigest()
        return (self.token_url, self.client_id, self.scope, secret)


@dataclass(frozen=True)
class _Kept:
    token: str = field(repr=False)
    renew_at: float


_kept: dict[tuple[str, str, str, str], _Kept] = {}
"""Fetched tokens by endpoint, client, scope and secret (its digest): one process, many passes."""


async def access_token(config: OAuthConfig, *, fresh: bool = False) -> str:
    """The token to present: the static one, or the kept one while it is good (unless `fresh`),
    else a new one from the token endpoint. Raises TokenError."""
    if not config.refreshable:
        return config.token
    kept = _kept.get(config.cache_key)
    if kept is not None and not fresh and time.monotonic() < kept.renew_at:
        return kept.token
    _kept.pop(config.cache_key, None)
    token, expires_s = await _fetch(config)
    _kept[config.cache_key] = _Kept(token, time.monotonic() + max(0.0, expires_s - min(EARLY_S, expires_s / 2)))
    log.info("mail intake: fetched an OAuth access token from %s (expires in %.0f s)", config.token_url, expires_s)
    return token


def forget_tokens() -> None:
    """Drop every kept token (the next login fetches anew)."""
    _kept.clear()


async def _fetch(config: OAuthConfig) -> tuple[str, float]:
    form = {"grant_type": "client_credentials", "client_id": config.client_id, "client_secret": config.client_secret}
    if config.scope:
        form["scope"] = config.scope
    try:
        async with httpx.AsyncClient(timeout=config.timeout_s, follow_redirects=False) as client:
            answer = await client.post(config.token_url, data=form, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise TokenError(f"token endpoint {config.token_url} not reached: {type(exc).__name__}") from None
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    if answer.status_code != 200:
        error = str(body.get("error", ""))[:100]
        description = str(body.get("error_description", ""))[:300]
        raise TokenError(
            f"token endpoint {config.token_url} answered {answer.status_code} {error}"
            + (f": {description}" if description else "")
            + (" (check the client id and secret)" if error == "invalid_client" or answer.status_code == 401 else "")
        )
    token = body.get("access_token")
    usable = isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_CHARS and token.isascii() and "\x01" not in token
    if not usable or not isinstance(token, str):
        raise TokenError(f"token endpoint {config.token_url} answered no usable access_token")
    expires = body.get("expires_in")
    try:
        expires_s = float(expires) if expires is not None else DEFAULT_EXPIRES_S
    except (TypeError, ValueError):
        expires_s = DEFAULT_EXPIRES_S
    return token, max(0.0, expires_s)
