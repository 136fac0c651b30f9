"""The replica load's HTTP client: a service's requests spread over its API replicas, and resent
to the next replica when a connection is refused, where resending is safe."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from typing import Any

import httpx

from shared.auth import mint_token
from tests.conftest import TEST_JWT_SECRET
from tests.replica_counts import Counts
from tests.replicas import Deployment

ROLES = ["agent", "requester", "change_manager", "config_manager", "supplier_manager", "service_level_manager"]
SAFE_TO_REPEAT = {"GET", "HEAD", "PUT", "DELETE"}


class ReplicaClient:
    """A service's requests spread over its API replicas, resent to the next on a refused connection."""

    def __init__(self, deployed: Deployment, counts: Counts) -> None:
        self._deployed = deployed
        self._counts = counts
        self._turn = itertools.count()
        token = mint_token(TEST_JWT_SECRET, "load", ROLES, ttl=timedelta(hours=2))
        self.headers = {"Authorization": f"Bearer {token}"}
        # A new connection per request: a connection kept alive could be one the server is closing.
        self.http = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_keepalive_connections=0))

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        replica: int | None = None,
        repeatable: bool = False,
        **kwargs: Any,
    ) -> httpx.Response | None:
        """The answer, or None (a failure, counted) when no replica took the request. `repeatable`:
        safe to send again though neither safe by method nor keyed (a discovery run reconciles)."""
        apis = self._deployed.of(service, "api")
        first = next(self._turn) if replica is None else replica
        headers = {**self.headers, **kwargs.pop("headers", {})}
        repeatable = repeatable or method in SAFE_TO_REPEAT or "Idempotency-Key" in headers
        self._counts.requests += 1
        for attempt in range(40):
            api = apis[(first + attempt) % len(apis)]
            try:
                return await self.http.request(method, f"{api.url}{path}", headers=headers, **kwargs)
            except httpx.ConnectError:
                pass  # refused: nothing was sent
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if not repeatable:
                    self._counts.fail(f"{method} {path}: {exc!r} (not safe to repeat)")
                    return None
            self._counts.resent_after_refusal += 1
            await asyncio.sleep(0.05 * min(attempt, 4))
        self._counts.fail(f"{method} {path}: no replica took it")
        return None

    async def expect(self, status: int, service: str, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        answer = await self.call(service, method, path, **kwargs)
        if answer is None:
            return None
        if answer.status_code != status:
            self._counts.fail(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
            return None
        body: dict[str, Any] = answer.json()
        return body
