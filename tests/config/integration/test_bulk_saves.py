"""Saving many CIs and relationships at once (discovery) keeps the rules of saving one: a CI
changed by someone else since it was read is refused by number, a hostname held by another CI is
a conflict (found one by one after the bulk statement fails), and the relationships already
recorded among many are those and only those."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.config.domain.items import Cause, CIStatus, ConfigItem, Criticality, Identifiers
from services.config.domain.relationships import Relationship, RelationshipType
from services.config.domain.types import BUILTIN_TYPES
from services.config.store.items import ConfigItemRepository
from services.config.store.relationships import RelationshipRepository
from services.config.store.tables import ci_version
from shared.db import create_engine
from shared.errors import Conflict, PreconditionFailed

pytestmark = pytest.mark.asyncio(loop_scope="session")

CAUSE = Cause("discovery", "tester", "bulk-test")
SERVER = next(t for t in BUILTIN_TYPES if t.name == "server")


@pytest.fixture
async def conn(service_database: Callable[[str], Any]) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction that is rolled back: the rows are this test's alone."""
    engine = create_engine(await service_database("config"))
    try:
        async with engine.connect() as connection:
            await connection.begin()
            yield connection
            await connection.rollback()
    finally:
        await engine.dispose()


async def _servers(conn: AsyncConnection, count: int) -> list[ConfigItem]:
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    items = [
        ConfigItem(
            id=uuid.uuid4(),
            number=f"CIB{tag}{n}",
            name=f"server {n}",
            ci_type="server",
            status=CIStatus.LIVE,
            criticality=Criticality.MEDIUM,
            owner=None,
            attributes={"cpu_cores": 8},
            identifiers=Identifiers(hostname=f"bulk-{tag}-{n}"),
            created_at=now,
            updated_at=now,
        )
        for n in range(count)
    ]
    await ConfigItemRepository(conn).add_many(items, CAUSE)
    return items


async def _read(conn: AsyncConnection, items: list[ConfigItem]) -> list[ConfigItem]:
    found = await ConfigItemRepository(conn).existing(i.id for i in items)
    return [found[i.id] for i in items]


def _changed(item: ConfigItem, **values: Any) -> tuple[ConfigItem, dict[str, Any]]:
    return item, item.update(values, SERVER, now=datetime.now(UTC), cause=CAUSE)


async def test_many_saves_write_every_row_and_version(conn: AsyncConnection) -> None:
    items = await _read(conn, await _servers(conn, 3))
    saved = [_changed(i, attributes={"cpu_cores": 16 + n}) for n, i in enumerate(items)]
    await ConfigItemRepository(conn).save_many(saved, CAUSE)
    again = await _read(conn, items)
    assert [(i.version, i.attributes["cpu_cores"]) for i in again] == [(2, 16), (2, 17), (2, 18)]
    versions = await conn.scalar(
        select(func.count()).select_from(ci_version).where(ci_version.c.ci_id.in_([i.id for i in items]))
    )
    assert versions == 6


async def test_a_ci_changed_since_it_was_read_is_refused_by_number(conn: AsyncConnection) -> None:
    items = await _read(conn, await _servers(conn, 3))
    stale = (await _read(conn, [items[1]]))[0]
    stale, changes = _changed(stale, owner="someone else")
    await ConfigItemRepository(conn).save(stale, CAUSE, changes)
    with pytest.raises(PreconditionFailed, match=items[1].number):
        await ConfigItemRepository(conn).save_many([_changed(i, owner="discovery") for i in items], CAUSE)


async def test_a_hostname_held_by_another_ci_is_a_conflict(conn: AsyncConnection) -> None:
    first, second = await _read(conn, await _servers(conn, 2))
    taken = first.identifiers.hostname
    with pytest.raises(Conflict, match="hostname"):
        await ConfigItemRepository(conn).save_many([_changed(second, identifiers=Identifiers(hostname=taken))], CAUSE)


async def test_the_recorded_relationships_among_many_are_found_in_one_go(conn: AsyncConnection) -> None:
    a, b, c = await _servers(conn, 3)
    now = datetime.now(UTC)
    repository = RelationshipRepository(conn)
    known = Relationship.link(
        relationship_id=uuid.uuid4(), source_id=a.id, kind=RelationshipType.DEPENDS_ON, target_id=b.id, now=now
    )
    await repository.add(known, CAUSE)
    wanted = [
        (a.id, RelationshipType.DEPENDS_ON, b.id),
        (a.id, RelationshipType.RUNS_ON, b.id),
        (b.id, RelationshipType.CONNECTS_TO, c.id),
    ]
    assert await repository.existing(wanted) == {(a.id, "depends_on", b.id)}
    assert await repository.existing([]) == set()
