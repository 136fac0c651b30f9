"""One demo run: its period, seed and random generators, what it has loaded so far (for the later
steps), and a helper to run a step's work a few at a time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from itsm.demo.client import Api, Missing, Refused


@dataclass
class Loaded:
    """What the demo created, for the later steps."""

    suppliers: dict[str, str] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)
    cis: dict[str, dict[str, Any]] = field(default_factory=dict)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    contracts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    known_errors: list[str] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)
    deployments: list[str] = field(default_factory=list)
    sla_policies: list[str] = field(default_factory=list)
    agreed_reports: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Refusals met along the way by a part that reports them later (deployments)."""


@dataclass
class Demo:
    api: Api
    now: datetime
    days: int
    rng: random.Random
    say: Callable[[str], None]
    seed: int = 0
    loaded: Loaded = field(default_factory=Loaded)
    concurrency: int = 4

    @property
    def start(self) -> datetime:
        return self.now - timedelta(days=self.days)

    def rng_for(self, part: str) -> random.Random:
        """A generator of its own per part, so adding a step changes no other step's data."""
        return random.Random(f"{self.seed}:{part}")

    async def each(self, items: list[Any], work: Callable[[Any], Awaitable[None]]) -> list[str]:
        """Run `work` over items, a few at a time; the errors, as notes."""
        gate = asyncio.Semaphore(self.concurrency)
        notes: list[str] = []

        async def one(item: Any) -> None:
            async with gate:
                try:
                    await work(item)
                except (Refused, Missing) as exc:
                    notes.append(str(exc))

        await asyncio.gather(*(one(i) for i in items))
        return notes
