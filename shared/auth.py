"""Bearer JWT authentication with roles.

Development and tests sign HS256 tokens with a shared secret (`itsm token` mints them); a real
identity provider is used through its JWKS URL (RS256/ES256). Roles come from the `roles` claim
(a list) or, for providers that nest them, `realm_access.roles`; the groups an agent works in
(assignment groups) come from the `groups` claim.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import jwt
from fastapi import Request

from shared.errors import Unauthenticated


class Role(StrEnum):
    REQUESTER = "requester"
    AGENT = "agent"
    INCIDENT_MANAGER = "incident_manager"
    """Declares major incidents and leads them (status updates, the post-incident review)."""
    PROBLEM_MANAGER = "problem_manager"
    CHANGE_MANAGER = "change_manager"
    CAB_MEMBER = "cab_member"
    CONFIG_MANAGER = "config_manager"
    SUPPLIER_MANAGER = "supplier_manager"
    SERVICE_LEVEL_MANAGER = "service_level_manager"
    AUDITOR = "auditor"
    ADMIN = "admin"
    PIPELINE = "pipeline"  # a CI/CD system: records deployments and asks the change gate, reads nothing else
    MONITORING = "monitoring"  # a monitoring system's service token: posts alerts, reads nothing


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    groups: frozenset[str] = frozenset()
    """The assignment groups the identity provider says the person is a member of."""

    def has_any(self, roles: Iterable[str]) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles.intersection(roles))


def mint_token(
    secret: str,
    subject: str,
    roles: Iterable[str],
    *,
    ttl: timedelta = timedelta(hours=12),
    audience: str | None = None,
    issuer: str | None = None,
    groups: Iterable[str] = (),
) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": subject, "roles": sorted(set(roles)), "iat": now, "exp": now + ttl}
    if groups:
        claims["groups"] = sorted(set(groups))
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm="HS256")


DEFAULT_MAX_LIFETIME = timedelta(hours=24)
"""The longest a token may live (`exp - iat`, or `exp - now` without `iat`): a leaked token
is not a key for years. `ITSM_JWT_MAX_LIFETIME_HOURS` sets it per deployment."""


class TokenVerifier:
    CACHE_SIZE = 1024
    CACHE_MAX_AGE_S = 300.0

    def __init__(
        self,
        *,
        secret: str | None,
        jwks_url: str | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        max_lifetime: timedelta | None = DEFAULT_MAX_LIFETIME,
    ) -> None:
        self._secret = secret
        self._max_lifetime = max_lifetime
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self._audience = audience
        self._issuer = issuer
        # Tokens that verified, by their exact text: a client sends the same token on every
        # request, and checking its signature and claims again costs more than the rest of
        # the auth. An entry is used only while the token's `exp` is in the future (and for at
        # most CACHE_MAX_AGE_S), so an expired token is refused exactly as without the cache;
        # failures are never cached.
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    async def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            principal, valid_until = cached
            if time.time() < valid_until:
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
        principal, exp = await self._verify_uncached(token)
        self._verified[token] = (principal, min(exp, time.time() + self.CACHE_MAX_AGE_S))
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    async def _verify_uncached(self, token: str) -> tuple[Principal, float]:
        """The principal and the token's expiry (epoch seconds), or `Unauthenticated`."""
        try:
            if self._jwks is not None:
                # PyJWKClient fetches over blocking HTTP (cached); keep it off the event loop.
                key: Any = (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key
                algorithms = ["RS256", "ES256"]
            else:
                key, algorithms = self._secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["sub", "exp"], "verify_aud": self._audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid bearer token: {exc}") from exc
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject.strip():
            raise Unauthenticated("invalid bearer token: the `sub` claim is empty")
        # PyJWT refuses a token once `exp <= now`; `exp` is required, so it is there and numeric.
        exp = float(claims["exp"])
        if self._max_lifetime is not None:
            issued = claims.get("iat")
            start = float(issued) if isinstance(issued, int | float) else time.time()
            if exp - start > self._max_lifetime.total_seconds():
                hours = self._max_lifetime.total_seconds() / 3600
                raise Unauthenticated(f"invalid bearer token: its lifetime is over the maximum of {hours:g} hours")
        roles = claims.get("roles") or claims.get("realm_access", {}).get("roles") or []
        groups = claims.get("groups") or []
        if not isinstance(roles, list) or not isinstance(groups, list):
            raise Unauthenticated("invalid bearer token: `roles` and `groups` must be lists")
        principal = Principal(subject, frozenset(str(r) for r in roles), frozenset(str(g) for g in groups))
        return principal, exp


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <jwt>)")
    return token.strip()


D = TypeVar("D", bound=Callable[..., Any])
_AUTHENTICATING: weakref.WeakSet[Any] = weakref.WeakSet()


def authenticating(dependency: D) -> D:
    """Marks a dependency that authenticates the caller (and may refuse them): the OpenAPI documents
    give every route that depends on it its 401 and 403 (shared.openapi)."""
    _AUTHENTICATING.add(dependency)
    return dependency


def authenticates(call: object) -> bool:
    """Whether a route's dependency is one `authenticating` marked (a bound method counts by its function)."""
    try:
        return getattr(call, "__func__", call) in _AUTHENTICATING
    except TypeError:  # a callable that takes no weak reference was never marked
        return False


@authenticating
async def current_principal(request: Request) -> Principal:
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(_bearer(request))


READ_ROLES = frozenset(Role) - {Role.PIPELINE, Role.MONITORING}
"""Every person's role may read; the auditor only reads. Machine tokens (pipeline, monitoring) read nothing."""
