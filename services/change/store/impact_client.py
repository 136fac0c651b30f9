"""The edge to the configuration service's impact analysis, over HTTP with a short timeout.

Services do not call each other on the write path, except here, where an answer improves the
risk score and its absence is a known state ("impact unknown"), not a failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import httpx

from services.change.domain.risk import ImpactFacts
from shared.auth import mint_token

log = logging.getLogger(__name__)


class ConfigImpactClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None,
        timeout_s: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout_s, transport=transport)
        self._timeout_s = timeout_s

    @classmethod
    def from_settings(
        cls, base_url: str, token: str | None, jwt_secret: str | None, *, timeout_s: float = 2.0
    ) -> ConfigImpactClient:
        # Without a token of its own (from the identity provider), the service signs a read-only one.
        if token is None and jwt_secret:
            token = mint_token(jwt_secret, "change-service", ["auditor"])
        return cls(base_url, token=token, timeout_s=timeout_s)

    async def impact_of(self, ci_ids: Sequence[UUID], depth: int = 3) -> ImpactFacts | None:
        """Downstream impact of a failure of these CIs, or None when config does not answer in time."""
        if not ci_ids:
            return ImpactFacts(reached_cis=0, business_services=0, most_critical=None)
        try:
            async with asyncio.timeout(self._timeout_s):
                answers = await asyncio.gather(*(self._impact(ci, depth) for ci in ci_ids))
        except (TimeoutError, httpx.HTTPError, ValueError) as exc:
            log.warning("configuration service gave no impact answer: %r", exc)
            return None
        reached: dict[str, int] = {}
        services: set[str] = set()
        for answer in answers:
            reached[answer["root"]["id"]] = answer["root"]["criticality"]
            for affected in answer["affected"]:
                reached[affected["ci"]["id"]] = affected["ci"]["criticality"]
            services.update(s["id"] for s in answer["business_services"])
        return ImpactFacts(
            reached_cis=len(reached) - len(ci_ids),
            business_services=len(services),
            most_critical=min(reached.values()) if reached else None,
        )

    async def _impact(self, ci_id: UUID, depth: int) -> dict[str, Any]:
        r = await self._client.get(f"/api/v1/cis/{ci_id}/impact", params={"direction": "downstream", "depth": depth})
        if r.status_code == 404:
            raise ValueError(f"config does not know CI {ci_id}")
        r.raise_for_status()
        answer: dict[str, Any] = r.json()
        return answer

    async def close(self) -> None:
        await self._client.aclose()
