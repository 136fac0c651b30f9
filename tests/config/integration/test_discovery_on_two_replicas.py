"""Two discovery runs seeing the same new hosts at once (one per API replica, each its own
transaction) create each host once: the second waits for the first's identifier locks, then finds
its CIs, instead of breaking the hostname index with a server error."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from services.config.domain.discovery import ObservedItem
from services.config.domain.items import Identifiers
from services.config.store.tables import config_item, outbox
from services.config.usecases.discovery import DiscoveryRun, run_discovery
from shared.db import create_engine
from shared.uow import UnitOfWork

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_the_same_new_hosts_seen_by_two_runs_at_once_are_created_once(
    service_database: Callable[[str], Any],
) -> None:
    engine = create_engine(await service_database("config"), pool_size=4)
    try:
        for _ in range(3):  # three rounds: a race lost once could be luck
            tag = uuid.uuid4().hex[:8]
            hosts = [f"{role}-{tag}" for role in ("app", "db", "cache")]
            run = DiscoveryRun(
                source="scanner",
                actor="tester",
                items=[ObservedItem(key=h, type="server", name=h, identifiers=Identifiers(hostname=h)) for h in hosts],
            )
            both = await asyncio.gather(
                *(run_discovery(run, UnitOfWork(engine, outbox, source="/itsm/config")) for _ in range(2))
            )
            counts = [stored.counts for stored in both]
            assert sorted((c.get("created", 0), c.get("unchanged", 0), c.get("error", 0)) for c in counts) == [
                (0, 3, 0),
                (3, 0, 0),
            ], counts
            async with engine.connect() as conn:
                per_host = await conn.execute(
                    select(config_item.c.hostname, func.count())
                    .where(config_item.c.hostname.in_(hosts))
                    .group_by(config_item.c.hostname)
                )
                assert sorted(per_host.all()) == sorted((h, 1) for h in hosts)
    finally:
        await engine.dispose()
