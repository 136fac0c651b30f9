"""The fake unit of work keeps the real one's rules, and the real one builds a repository once per
transaction (on SQLite in memory: the mechanism, not PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from sqlalchemy import Column, Integer, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.events import EventData
from shared.store import service_tables
from shared.testing import FakeRepository, FakeUnitOfWork, InMemoryEventSink, InMemoryTable, NoConnection
from shared.uow import UnitOfWork


class Pinged(EventData):
    """A contract for these tests only: no `routing_key`, so it stays out of the registry of contracts."""

    n: int

    @classmethod
    def event_type(cls) -> str:
        return "itsm.testing.pinged.v1"


class Counters:
    """A real repository: counters in a table, on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, key: str) -> int | None:
        raise NotImplementedError

    async def put(self, key: str, value: int) -> None:
        raise NotImplementedError


class FakeCounters(FakeRepository):
    def __init__(self) -> None:
        self.rows: InMemoryTable[str, int] = InMemoryTable()

    async def get(self, key: str) -> int | None:
        return self.rows.get(key)

    async def put(self, key: str, value: int) -> None:
        self.rows.put(key, value)


def fake() -> tuple[FakeUnitOfWork, FakeCounters, InMemoryEventSink]:
    counters, sink = FakeCounters(), InMemoryEventSink()
    return FakeUnitOfWork({Counters: counters}, sink=sink), counters, sink


async def test_events_and_writes_reach_the_sink_and_the_store_only_on_commit() -> None:
    uow, counters, sink = fake()
    seen: list[int] = []
    async with uow:
        await uow.repository(Counters).put("a", 1)
        uow.emit(Pinged(n=1), subject="a")
        uow.after_commit(lambda: seen.append(len(sink)))
        assert len(sink) == 0 and seen == [] and [e.subject for e in uow.pending] == ["a"]
        assert await counters.get("a") == 1  # the transaction reads its own writes
        await uow.commit()
    assert [p.n for p in sink.of_type(Pinged)] == [1] and sink.about("a") == sink.events
    assert seen == [1]  # after-commit callbacks run once the events are out
    assert uow.committed == 1
    async with uow:
        assert await uow.repository(Counters).get("a") == 1


async def test_a_rollback_or_an_exception_discards_events_writes_and_callbacks() -> None:
    uow, counters, sink = fake()
    seen: list[str] = []
    async with uow:
        await uow.repository(Counters).put("a", 1)
        uow.emit(Pinged(n=1), subject="a")
        uow.after_commit(lambda: seen.append("rolled back"))
        await uow.rollback()

    async def fail_midway() -> None:
        async with uow:
            await uow.repository(Counters).put("b", 2)
            uow.emit(Pinged(n=2), subject="b")
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await fail_midway()
    async with uow:  # leaving without a commit discards too
        uow.emit(Pinged(n=3), subject="c")
    assert len(sink) == 0 and seen == [] and uow.committed == 0
    assert counters.rows.values() == []


async def test_mark_and_discard_since_drop_the_events_of_an_undone_step() -> None:
    uow, _, sink = fake()
    async with uow:
        uow.emit(Pinged(n=1), subject="a")
        mark = uow.mark()
        uow.emit(Pinged(n=2), subject="b")
        uow.discard_since(mark)
        await uow.commit()
    assert [p.n for p in sink.of_type(Pinged)] == [1]


async def test_values_are_copied_so_nobody_changes_the_store_behind_the_repository() -> None:
    table: InMemoryTable[str, list[int]] = InMemoryTable({"a": [1]})
    table.get("a").append(2)  # type: ignore[union-attr]
    assert table.get("a") == [1]


async def test_the_fake_refuses_the_connection_a_closed_unit_and_an_unknown_repository() -> None:
    uow, counters, _ = fake()
    with pytest.raises(RuntimeError, match="not open"):
        uow.repository(Counters)
    async with uow:
        assert uow.repository(Counters) is uow.repository(Counters) is counters
        with pytest.raises(NoConnection, match=r"uow\.repository"):
            _ = uow.connection
        with pytest.raises(LookupError, match="no fake for AsyncConnection"):
            uow.repository(AsyncConnection)
        with pytest.raises(RuntimeError, match="already open"):
            await uow.__aenter__()


def test_a_fake_that_lacks_a_method_of_the_real_repository_is_refused() -> None:
    class Partial:
        async def get(self, key: str) -> int | None:
            return None

    with pytest.raises(TypeError, match="Partial fakes Counters but lacks put"):
        FakeUnitOfWork({Counters: Partial()})


# ------------------------------------------------------------------------ the real unit of work


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine("sqlite+aiosqlite://")
    yield engine
    await engine.dispose()


async def test_the_real_unit_of_work_builds_each_repository_once_per_transaction(engine: AsyncEngine) -> None:
    metadata, outbox, _, _ = service_tables()
    counter = Table("counter", metadata, Column("id", Integer, primary_key=True))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    uow = UnitOfWork(engine, outbox, source="tests")

    async with uow:
        first = uow.repository(Counters)
        assert uow.repository(Counters) is first and first.conn is uow.connection
        await first.conn.execute(counter.insert().values(id=1))
        uow.emit(Pinged(n=1), subject=str(uuid4()))
        await uow.commit()
        assert uow.repository(Counters) is first  # the same block: the same connection
    with pytest.raises(RuntimeError, match="not open"):
        uow.repository(Counters)
    async with uow:
        second = uow.repository(Counters)
        assert second is not first and second.conn is uow.connection
        assert (await second.conn.scalars(select(counter.c.id))).all() == [1]
        assert len((await second.conn.execute(select(outbox))).all()) == 1
