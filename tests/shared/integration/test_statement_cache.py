"""The hot paths run from SQLAlchemy's compiled cache: once a path has run, running it again
compiles no statement. Covered: an incident create with a CI (its outbox rows, the relay's
claim and mark, incident's own consumer and its inbox), a CI create in config and the CI read
models incident and change keep of it, a change create on the CI, and reporting's projection of
all their events.

Each pass creates the same kinds of records and waits until every event has been published and
projected; the second pass must find each statement's compiled form in the engine's cache
(`CacheStats.CACHE_HIT`, what echo logging shows as `[cached since ...]`). A construct SQLAlchemy
cannot cache (`insert().on_conflict_do_nothing()` and its kin: `[no key ...]`), or a statement
whose SQL differs per call (literal values, `.values()` with other keys), fails it. On PostgreSQL
and on SQLite (the one-machine default)."""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Column, Integer, String, Table, Uuid, bindparam, delete, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from itsm.registry import entry
from shared.db import UtcDateTime, create_engine, insert_ignoring_duplicates, make_metadata, upsert_statement
from shared.migrations import upgrade
from tests.conftest import running
from tests.infra import Servers, create_service_database, eventually
from tests.statement_cache import CompiledStatements

pytestmark = pytest.mark.asyncio(loop_scope="session")

SERVICES = ("incident", "change", "config", "reporting")
QUIET = {
    # The periodic jobs run once at start-up and not again while the test runs: a job's first
    # pass is not a hot path compiling again.
    "incident": {"sla_watch_interval_s": 3600, "auto_close_interval_s": 3600},
    "reporting": {"report_schedule_interval_s": 3600, "service_level_days_interval_s": 3600},
}


@dataclass
class Suite:
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    watched: dict[str, CompiledStatements] = field(default_factory=dict)
    """What each service's engine compiled."""
    probes: dict[str, AsyncEngine] = field(default_factory=dict)
    """An engine of the test's own on each service's database, to wait with."""


@pytest.fixture(params=["postgresql", "sqlite"])
async def suite(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    servers: Servers,
    service_database: Callable[[str], Any],
    make_settings: Callable[..., Any],
) -> AsyncIterator[Suite]:
    prefix = servers.new_queue_prefix(f"stmtcache_{request.param[:2]}")
    # On SQLite the services count their numbers from 1 again: an exchange of their own keeps those
    # events from the run's consumers, whose databases already hold those numbers.
    exchange = servers.exchange if request.param == "postgresql" else servers.new_exchange("stmtcache")
    suite = Suite()
    async with AsyncExitStack() as stack:
        for name in SERVICES:
            if request.param == "postgresql":
                url = str(await service_database(name))
            else:
                url = f"sqlite+aiosqlite:///{tmp_path}/{name}.db"
                await asyncio.to_thread(upgrade, name, url)
            settings = make_settings(
                entry(name).settings_class, url, queue_prefix=prefix, events_exchange=exchange, **QUIET.get(name, {})
            )
            app = importlib.import_module(f"services.{name}.app").create_app(settings)
            suite.clients[name] = await stack.enter_async_context(running(app))
            watched = suite.watched[name] = CompiledStatements(app.state.runtime.engine)
            stack.callback(watched.close)
            probe = suite.probes[name] = create_engine(url)
            stack.push_async_callback(probe.dispose)

        async def ready() -> None:  # each consumer's queue bound before the first event is published
            for client in suite.clients.values():
                assert (await client.get("/readyz")).status_code == 200

        await eventually(ready)
        yield suite


async def _scalar(engine: AsyncEngine, sql: str, **values: Any) -> Any:
    statement = text(sql).bindparams(*(bindparam(k, type_=Uuid) for k, v in values.items() if isinstance(v, uuid.UUID)))
    async with engine.connect() as conn:
        return await conn.scalar(statement, values)


async def _settled(suite: Suite, ids: dict[str, str]) -> None:
    """Every outbox published, reporting holding the pass's events, incident's read model the CI,
    and then no service compiling anything new for half a second (consumers finishing their batch)."""

    async def drained() -> None:
        for name in SERVICES:
            assert await _scalar(suite.probes[name], "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        for subject in ids.values():
            sql = "SELECT count(*) FROM event_log WHERE subject = :s"
            assert await _scalar(suite.probes["reporting"], sql, s=subject) >= 1, (subject, ids)
        sql = "SELECT count(*) FROM incident_facts WHERE incident_id = :i"
        assert await _scalar(suite.probes["reporting"], sql, i=uuid.UUID(ids["incident"])) == 1

    await eventually(drained)
    counts: list[int] = []
    while len(counts) < 5 or (len(set(counts[-5:])) > 1 and len(counts) < 100):
        counts.append(sum(len(w.compiled) for w in suite.watched.values()))
        await asyncio.sleep(0.1)


async def _pass(suite: Suite, auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    config, incident, change = (suite.clients[n] for n in ("config", "incident", "change"))
    ci = await config.post(
        "/api/v1/cis",
        json={"name": f"mail-{uuid.uuid4().hex[:8]}", "type": "server", "criticality": 2},
        headers=auth("config_manager"),
    )
    assert ci.status_code == 201, ci.text
    ci_id = ci.json()["id"]

    async def known() -> None:
        sql = "SELECT count(*) FROM ci_read_model WHERE id = :i"
        for name in ("incident", "change"):
            assert await _scalar(suite.probes[name], sql, i=uuid.UUID(ci_id)) == 1, name

    await eventually(known)
    created = await incident.post(
        "/api/v1/incidents",
        json={"title": "Mail is down", "caller": "bob", "impact": 2, "urgency": 2, "ci_id": ci_id},
        headers=auth("agent"),
    )
    assert created.status_code == 201, created.text
    planned = await change.post(
        "/api/v1/changes", json={"title": "Patch mail", "affected_ci_ids": [ci_id]}, headers=auth("requester")
    )
    assert planned.status_code == 201, planned.text
    ids = {"ci": ci_id, "incident": created.json()["id"], "change": planned.json()["id"]}
    await _settled(suite, ids)
    return ids


async def test_the_second_pass_over_the_hot_paths_compiles_no_statement(
    suite: Suite, auth: Callable[..., dict[str, str]]
) -> None:
    await _pass(suite, auth)
    first = {name: list(w.compiled) for name, w in suite.watched.items()}
    assert all(first.values()), "the first pass compiles: the watch sees statements"
    for w in suite.watched.values():
        w.clear()
    await _pass(suite, auth)
    assert all(w.executed for w in suite.watched.values())
    compiled_again = {name: w.compiled for name, w in suite.watched.items() if w.compiled}
    listed = "\n".join(f"{name}: {status} {sql[:160]}" for name, c in compiled_again.items() for status, sql in c)
    assert compiled_again == {}, listed


@pytest.fixture(params=["postgresql", "sqlite"])
async def scratch(request: pytest.FixtureRequest, tmp_path: Path, servers: Servers) -> AsyncIterator[AsyncEngine]:
    """An engine on a database of the test's own holding the `scratch` table."""
    if request.param == "postgresql":
        url = await create_service_database(servers, "notify", label="scratch")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}/scratch.db"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(SCRATCH.metadata.create_all)
    yield engine
    await engine.dispose()


SCRATCH = Table(
    "scratch",
    make_metadata(),
    Column("id", Uuid, primary_key=True),
    Column("name", String(20), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("n", Integer, nullable=False, server_default="0"),
)


async def test_the_shared_insert_helpers_compile_once_and_do_what_they_say(scratch: AsyncEngine) -> None:
    """`insert_ignoring_duplicates` and `upsert_statement` (one row, many rows, RETURNING), each built
    again at every call as the call sites do: the second round compiles nothing."""
    watched = CompiledStatements(scratch)
    first, second = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        for round_ in range(2):
            watched.clear()
            async with scratch.begin() as conn:
                await conn.execute(delete(SCRATCH))
                row = {"id": first, "name": "a", "at": at}
                once = insert_ignoring_duplicates(SCRATCH, row, returning="id")
                assert (await conn.execute(once, row)).first() is not None
                assert (await conn.execute(once, {**row, "name": "b"})).first() is None  # a duplicate: ignored
                many = [{"id": second, "name": "c", "at": at}, {"id": first, "name": "d", "at": at}]
                await conn.execute(insert_ignoring_duplicates(SCRATCH, many[0], key=("id",)), many)
                moved = {"id": first, "name": "e", "at": at, "n": 7}
                await conn.execute(upsert_statement(SCRATCH, moved, key=("id",), updating=("n",)), moved)
                rows = (await conn.execute(select(SCRATCH.c.id, SCRATCH.c.name, SCRATCH.c.n))).all()
            assert sorted((r.name, r.n) for r in rows) == [("a", 7), ("c", 0)]
            if round_ == 1:
                assert watched.executed >= 6
                assert watched.compiled == []
    finally:
        watched.close()
