"""The HTTP plumbing of `itsm demo`: the services' APIs as their OpenAPI documents describe them,
called with a token per person, retried while a service has not learned a CI yet.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from itsm.demo.dataset import GROUPS_OF
from shared.auth import mint_token
from shared.clock import OCCURRED_AT_HEADER


class Missing(Exception):
    """The running service has no such route (an older or newer build): skip, with a note."""


class Refused(Exception):
    """The service answered with an error."""

    def __init__(self, method: str, path: str, status: int, detail: str, body: Any = None) -> None:
        super().__init__(f"{method} {path}: {status} {detail}")
        self.status = status
        self.body = body


@dataclass
class Api:
    """The services' HTTP APIs as the demo sees them: their OpenAPI documents and tokens per person."""

    urls: dict[str, str]
    secret: str
    audience: str | None = None
    issuer: str | None = None
    timeout_s: float = 30.0
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    _routes: dict[str, list[tuple[str, re.Pattern[str], str]]] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)
    _client: httpx.AsyncClient | None = None
    mounts: dict[str, httpx.AsyncBaseTransport] | None = None
    """Transports by URL prefix instead of the network (tests run the services in process)."""
    calls: int = 0
    ci_wait_s: float = 20.0
    """How long a write refused for an unknown CI is retried: the incident, change and supplier
    services learn config's CIs from its events (their local CI read model), a moment later."""

    async def __aenter__(self) -> Api:
        self._client = httpx.AsyncClient(timeout=self.timeout_s, mounts=self.mounts)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._client is not None
        await self._client.aclose()

    @property
    def client(self) -> httpx.AsyncClient:
        assert self._client is not None
        return self._client

    async def discover(self, service: str, *, within_s: float = 0.0) -> bool:
        """Read the service's OpenAPI document; False when it does not answer within `within_s`
        (a suite just started with `itsm up` takes a few seconds)."""
        deadline = asyncio.get_running_loop().time() + within_s
        while True:
            try:
                r = await self.client.get(f"{self.urls[service]}/openapi.json")
                r.raise_for_status()
                break
            except httpx.HTTPError:
                if asyncio.get_running_loop().time() >= deadline:
                    return False
                await asyncio.sleep(0.5)
        spec = r.json()
        self.specs[service] = spec
        self._routes[service] = [
            (method.upper(), re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
            for path, operations in spec.get("paths", {}).items()
            for method in operations
        ]
        return True

    def has(self, service: str, method: str, path: str) -> bool:
        return self._template(service, method, path) is not None

    def _template(self, service: str, method: str, path: str) -> str | None:
        for m, pattern, template in self._routes.get(service, []):
            if m == method and pattern.match(path):
                return template
        return None

    def accepted_fields(self, service: str, method: str, path: str) -> set[str]:
        """The properties the route's JSON body accepts (bodies refuse unknown fields)."""
        template = self._template(service, method, path)
        if template is None:
            return set()
        spec = self.specs[service]
        operation = spec["paths"][template][method.lower()]
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        seen = 0
        while "$ref" in schema and seen < 5:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            seen += 1
        return set(schema.get("properties", {}))

    def token(self, person: str, roles: tuple[str, ...] = ("admin",)) -> str:
        key = f"{person}:{','.join(roles)}"
        if key not in self._tokens:
            self._tokens[key] = mint_token(
                self.secret,
                person,
                roles,
                ttl=timedelta(hours=2),
                audience=self.audience,
                issuer=self.issuer,
                groups=GROUPS_OF.get(person, ()),
            )
        return self._tokens[key]

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        person: str,
        at: datetime | None = None,
        body: dict[str, Any] | None = None,
        optional: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """`body` is sent as is; of `optional`, only the fields the route accepts."""
        if not self.has(service, method, path):
            raise Missing(f"{service} has no {method} {path.split('/api/v1')[-1]}")
        payload = dict(body or {})
        if optional:
            accepted = self.accepted_fields(service, method, path)
            payload.update({k: v for k, v in optional.items() if k in accepted and v is not None})
        headers = {**(headers or {}), "Authorization": f"Bearer {self.token(person)}"}
        if at is not None:
            headers[OCCURRED_AT_HEADER] = at.isoformat()
        has_body = method in ("POST", "PUT", "PATCH")
        deadline = asyncio.get_running_loop().time() + (self.ci_wait_s if has_body and service != "config" else 0)
        collisions = 0
        while True:
            r = await self.client.request(
                method,
                f"{self.urls[service]}{path}",
                json=payload if has_body else None,
                params=params,
                headers=headers,
            )
            self.calls += 1
            if r.status_code < 400:
                return r.json() if r.content else None
            try:
                problem = r.json()
            except ValueError:
                problem = {"detail": r.text}
            if r.status_code == 422 and unknown_ci(problem) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.25)  # config's ci.created.v1 is still on its way to this service
                continue
            if r.status_code == 412 and has_body and collisions < 5:
                # No If-Match was sent: the record changed between the service's read and write (its
                # own event handlers write on incidents and problems too); nothing was written, so
                # the same request again is safe.
                collisions += 1
                await asyncio.sleep(0.1 * collisions)
                continue
            raise Refused(method, path, r.status_code, str(problem.get("detail", ""))[:300], problem)


CI_FIELDS = frozenset({"ci_id", "ci_ids", "service_id", "service_ids", "affected_ci_ids"})


def unknown_ci(problem: Any) -> bool:
    """A business rule refusing a CI or service field (not a malformed request): a CI the service
    has not heard of yet, which waiting may cure."""
    if not isinstance(problem, dict) or str(problem.get("type", "")).rstrip("/").endswith("validation"):
        return False
    errors = problem.get("errors") or []
    return any(CI_FIELDS & set(str(e.get("field", "")).split(".")) for e in errors if isinstance(e, dict))
