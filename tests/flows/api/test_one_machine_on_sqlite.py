"""The one-machine default: all six services on SQLite files take many writes at once (creates and
actions, a supplier review among them) and every one succeeds, while `/readyz` keeps answering,
and no task (request, consumer, relay) ever holds two connections at once.

A request that held a connection while its use case waited for another used to wait out SQLite's
30 s busy timeout and fail with "database is locked"; the bound below is far shorter, so such a
request fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from itsm.registry import SERVICE_NAMES, entry
from services.reporting.domain.definitions import DEFINITIONS
from shared.migrations import upgrade
from tests.conftest import running
from tests.connections import ConnectionsPerTask
from tests.infra import Servers

pytestmark = pytest.mark.asyncio(loop_scope="session")

Auth = Callable[..., dict[str, str]]
BOUND_S = 20.0
"""Well below the 30 s SQLite busy timeout: a request stuck on the database lock is reported, not waited out."""
EACH = 6
"""Writes of each kind sent at once."""
REVIEWS = 20
"""Supplier reviews sent at once: more than a service's connection pool holds (15 on SQLite), so a
request that holds one connection while it waits for a second can only wait on the others."""


@dataclass
class OneMachine:
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    watchers: dict[str, ConnectionsPerTask] = field(default_factory=dict)
    """Each service's pool, watched while the test runs."""


@pytest.fixture
async def suite(tmp_path: Path, servers: Servers, make_settings: Callable[..., Any]) -> AsyncIterator[OneMachine]:
    """Every service as `itsm up` runs it: its own SQLite file, its relay and consumer in the process."""
    prefix = servers.new_queue_prefix("sqlite")
    suite = OneMachine()
    async with AsyncExitStack() as stack:
        for name in SERVICE_NAMES:
            url = f"sqlite+aiosqlite:///{tmp_path}/{name}.db"
            await asyncio.to_thread(upgrade, name, url)
            settings = make_settings(entry(name).settings_class, url, queue_prefix=prefix)
            app = importlib.import_module(f"services.{name}.app").create_app(settings)
            suite.clients[name] = await stack.enter_async_context(running(app))
            watcher = suite.watchers[name] = ConnectionsPerTask(app.state.runtime.engine)
            stack.callback(watcher.close)
        yield suite


async def _created(response: Awaitable[httpx.Response]) -> dict[str, Any]:
    r = await response
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_concurrent_writes_to_every_service_on_sqlite_all_succeed_and_readyz_answers(
    suite: OneMachine, auth: Auth
) -> None:
    clients = suite.clients
    incident, change, config, supplier, reporting = (
        clients[n] for n in ("incident", "change", "config", "supplier", "reporting")
    )
    agent, olga = auth("agent"), auth("supplier_manager", subject="olga")

    # Records the actions below act on.
    incidents = [
        await _created(
            incident.post(
                "/api/v1/incidents",
                json={"title": "Printer jam", "caller": "bob", "impact": 3, "urgency": 3},
                headers=agent,
            )
        )
        for _ in range(EACH)
    ]
    suppliers = [
        await _created(
            supplier.post(
                "/api/v1/suppliers", json={"name": f"Acme {uuid.uuid4().hex[:6]}", "category": "services"}, headers=olga
            )
        )
        for _ in range(REVIEWS)
    ]

    writes: dict[str, Callable[[], Awaitable[httpx.Response]]] = {}
    for i in range(EACH):
        writes[f"incident create {i}"] = lambda: incident.post(
            "/api/v1/incidents", json={"title": "Mail down", "caller": "ann", "impact": 2, "urgency": 2}, headers=agent
        )
        writes[f"incident assign {i}"] = lambda i=i: incident.post(  # type: ignore[misc]
            f"/api/v1/incidents/{incidents[i]['id']}/assign", json={"assignment_group": "web"}, headers=agent
        )
        writes[f"change create {i}"] = lambda: change.post(
            "/api/v1/changes", json={"title": "Patch mail"}, headers=auth("requester")
        )
        writes[f"config create {i}"] = (
            lambda i=i: config.post(  # type: ignore[misc]
                "/api/v1/cis",
                json={"name": f"db-{i}-{uuid.uuid4().hex[:6]}", "type": "server"},
                headers=auth("config_manager"),
            )
        )
        writes[f"config baseline {i}"] = lambda i=i: config.post(  # type: ignore[misc]
            "/api/v1/baselines", json={"name": f"servers {i}", "type": "server"}, headers=auth("config_manager")
        )
        writes[f"supplier create {i}"] = lambda: supplier.post(
            "/api/v1/suppliers", json={"name": f"Beta {uuid.uuid4().hex[:6]}", "category": "cloud"}, headers=olga
        )
    for i, reviewed in enumerate(suppliers):
        writes[f"supplier review {i}"] = lambda sid=reviewed["id"]: supplier.post(  # type: ignore[misc]
            f"/api/v1/suppliers/{sid}/reviews",
            json={"held_on": "2026-11-20", "period": "2026-10", "participants": ["olga"], "findings": "on track"},
            headers=olga,
        )
    for definition in DEFINITIONS[:EACH]:
        writes[f"reporting agreement {definition.name}"] = lambda name=definition.name: reporting.put(  # type: ignore[misc]
            f"/api/v1/reports/{name}/agreement",
            json={
                "owner": "Service level manager",
                "agreed_with": ["Board"],
                "distribution_list": [],
                "reason": "pack",
            },
            headers=auth("service_level_manager"),
        )

    async def write(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        return await call()

    async def readiness_meanwhile() -> list[tuple[str, int]]:
        answers = []
        for _ in range(5):
            for name, client in clients.items():
                answers.append((name, (await client.get("/readyz")).status_code))
            await asyncio.sleep(0.05)
        return answers

    tasks = {asyncio.create_task(write(call)): label for label, call in writes.items()}
    probe = asyncio.create_task(readiness_meanwhile())
    done, pending = await asyncio.wait([*tasks, probe], timeout=BOUND_S)
    for task in pending:
        task.cancel()
    hung = sorted(tasks[t] for t in pending if t in tasks)
    assert not hung, f"still waiting after {BOUND_S:g} s: {hung}"
    assert probe in done, f"/readyz did not answer within {BOUND_S:g} s while the writes ran"
    answers = {tasks[t]: t.result() for t in done if t in tasks}
    refused = {label: (r.status_code, r.text[:300]) for label, r in answers.items() if r.status_code not in (200, 201)}
    assert refused == {}
    assert {status for _, status in probe.result()} == {200}, probe.result()
    assert {name: w.second_checkouts for name, w in suite.watchers.items() if w.second_checkouts} == {}
