"""The store's impact walk against the pure walk (`ImpactWalk` over the edges in memory), on a
random graph dense in cycles, diamonds, parallel relationships of several types between the
same CIs, connections both ways, and relationships that carry no impact: on PostgreSQL (one
query per level that picks the way to each new CI itself) and on SQLite (the level-by-level walk);
and the compact answer's walk (`reached`: ids and distances only) against both."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.impact import MAX_DEPTH, Arrival, Direction, Edge, walk_in_memory
from services.config.domain.items import Cause, CIStatus, ConfigItem, Criticality, Identifiers
from services.config.domain.relationships import RelationshipType
from services.config.store.impact import impact, summaries, walk
from services.config.store.impact import reached as reached_ids
from services.config.store.items import ConfigItemRepository
from services.config.store.tables import ci_relationship
from shared.db import create_engine
from shared.migrations import upgrade

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _graph(seed: int, nodes: int = 120, edges: int = 700) -> tuple[list[uuid.UUID], list[Edge]]:
    rng = random.Random(seed)
    ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(nodes)]
    found: set[Edge] = set()
    while len(found) < edges:
        # Mostly among a few CIs, so that many CIs are reached in several equally short ways.
        pool = ids[:30] if rng.random() < 0.5 else ids
        source, target = rng.sample(pool, 2)
        kind = rng.choice(list(RelationshipType))
        found.add(Edge(source, kind, target))
        if kind is RelationshipType.CONNECTS_TO and rng.random() < 0.3:
            found.add(Edge(target, kind, source))
    return ids, sorted(found, key=lambda e: (str(e.source_id), e.type.value, str(e.target_id)))


async def _load(conn: AsyncConnection, edges: list[Edge]) -> None:
    now = datetime.now(UTC)
    rows = [
        {"id": uuid.uuid4(), "source_id": e.source_id, "type": e.type, "target_id": e.target_id, "created_at": now}
        for e in edges
    ]
    await conn.execute(ci_relationship.insert(), rows)


async def _load_items(conn: AsyncConnection, ids: list[uuid.UUID]) -> None:
    """CI rows for two thirds of the ids: relationships may outlive a CI's row."""
    now = datetime.now(UTC)
    items = [
        ConfigItem(
            id=ci_id,
            number=f"CIW{n:06d}",
            name=f"walked {n}",
            ci_type="server",
            status=CIStatus.LIVE,
            criticality=Criticality(1 + n % 4),
            owner=None,
            attributes={},
            identifiers=Identifiers(),
            created_at=now,
            updated_at=now,
        )
        for n, ci_id in enumerate(ids)
        if n % 3
    ]
    await ConfigItemRepository(conn).add_many(items, Cause("import", "test"))


async def _same_as_the_pure_walk(conn: AsyncConnection, ids: list[uuid.UUID], edges: list[Edge]) -> int:
    """Every walk from 30 roots, both ways, at several depths; returns how many CIs they showed."""
    reached = shown = 0
    for root in ids[:25] + ids[-5:]:
        for direction in Direction:
            for depth in (1, 2, 4, MAX_DEPTH):
                expected = walk_in_memory(root, direction, depth, edges)
                assert await walk(conn, root, direction, depth) == expected, (root, direction, depth)
                arrivals, found = await impact(conn, root, direction, depth)
                assert arrivals == [
                    Arrival(r.ci_id, r.distance, r.path[-1].from_id, r.path[-1].type, r.path[-1].relationship_reversed)
                    for r in expected
                ]
                assert found == await summaries(conn, [r.ci_id for r in expected])
                # The compact answer's walk: the same CIs that have a row, at the same distances, in order.
                assert await reached_ids(conn, root, direction, depth) == [
                    (r.ci_id, r.distance) for r in expected if r.ci_id in found
                ]
                reached += len(expected)
                shown += len(found)
    assert shown < reached  # a third of the CIs have no row
    return shown


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_walk_on_postgresql_is_the_pure_walk(service_database: Callable[[str], Any], seed: int) -> None:
    engine = create_engine(await service_database("config"))
    ids, edges = _graph(seed)
    try:
        async with engine.connect() as conn:
            await conn.begin()  # rolled back: the relationships are this test's alone
            await _load(conn, edges)
            await _load_items(conn, ids)
            assert await _same_as_the_pure_walk(conn, ids, edges) > 500
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_the_walk_on_sqlite_is_the_pure_walk(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/config.db"
    await asyncio.to_thread(upgrade, "config", url)
    engine = create_engine(url)
    ids, edges = _graph(4)
    try:
        async with engine.connect() as conn:
            await conn.begin()
            await _load(conn, edges)
            await _load_items(conn, ids)
            assert await _same_as_the_pure_walk(conn, ids, edges) > 500
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_depth_out_of_range_is_refused_by_both_walks(service_database: Callable[[str], Any]) -> None:
    engine = create_engine(await service_database("config"))
    try:
        async with engine.connect() as conn:
            for depth in (0, MAX_DEPTH + 1):
                with pytest.raises(ValueError, match="depth"):
                    await walk(conn, uuid.uuid4(), Direction.DOWNSTREAM, depth)
                with pytest.raises(ValueError, match="depth"):
                    await reached_ids(conn, uuid.uuid4(), Direction.DOWNSTREAM, depth)
    finally:
        await engine.dispose()
