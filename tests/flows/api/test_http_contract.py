"""One HTTP contract for every service that takes writes: problem details, auth, size bound,
health, and that a refused request stores nothing (record and outbox row counts unchanged)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Table, func, select

from itsm.registry import entry
from tests.conftest import running
from tests.infra import Servers

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass(frozen=True)
class Writer:
    service: str
    path: str
    table: str
    valid: dict[str, Any]
    role: str
    invalid: dict[str, Any]
    invalid_field: str

    def unique_valid(self) -> dict[str, Any]:
        key = "title" if "title" in self.valid else "name"
        return {**self.valid, key: f"{self.valid[key]} {uuid.uuid4().hex[:8]}"}


WRITERS = [
    Writer(
        "incident",
        "/api/v1/incidents",
        "incident",
        {"title": "Mail down", "caller": "bob", "impact": 2, "urgency": 2},
        "agent",
        {"title": "Mail down", "caller": "bob", "impact": 9, "urgency": 2},
        "impact",
    ),
    Writer(
        "change",
        "/api/v1/changes",
        "change",
        {"title": "Patch db01", "type": "normal"},
        "change_manager",
        {"title": "Patch db01", "type": "reckless"},
        "type",
    ),
    Writer(
        "config",
        "/api/v1/cis",
        "config_item",
        {"name": "db01", "type": "server"},
        "config_manager",
        {"name": "db01", "type": "spaceship"},
        "type",
    ),
    Writer(
        "supplier",
        "/api/v1/suppliers",
        "supplier",
        {"name": "Acme Hosting", "category": "cloud"},
        "supplier_manager",
        {"name": "Acme Hosting", "category": "cloud", "risk_rating": "extreme"},
        "risk_rating",
    ),
]


@pytest.fixture(params=WRITERS, ids=lambda w: w.service, scope="module")
async def writer(
    request: pytest.FixtureRequest,
    servers: Servers,
    service_database: Callable[[str], Any],
    make_settings: Callable[..., Any],
) -> AsyncIterator[tuple[Writer, httpx.AsyncClient, Callable[[], Any]]]:
    spec: Writer = request.param
    service = entry(spec.service)
    url = await service_database(spec.service)
    # No worker: events other tests left on the service's queue would change the counts under us.
    settings = make_settings(service.settings_class, url, max_body_bytes=4096, run_worker=False)
    app = importlib_app(spec.service)(settings)
    tables: list[Table] = [service.spec.metadata.tables[spec.table], service.spec.outbox]

    async with running(app) as client:

        async def counts() -> tuple[int, ...]:
            engine = app.state.runtime.engine
            async with engine.connect() as conn:
                return tuple([int(await conn.scalar(select(func.count()).select_from(t)) or 0) for t in tables])

        yield spec, client, counts


def importlib_app(service: str) -> Callable[..., Any]:
    import importlib

    factory: Callable[..., Any] = importlib.import_module(f"services.{service}.app").create_app
    return factory


async def test_a_valid_create_is_201_with_location_and_one_outbox_event(writer: Any, auth: Any) -> None:
    spec, client, counts = writer
    before = await counts()
    r = await client.post(spec.path, json=spec.unique_valid(), headers=auth(spec.role))
    assert r.status_code == 201, r.text
    assert r.headers["location"] == f"{spec.path}/{r.json()['id']}"
    assert await counts() == (before[0] + 1, before[1] + 1)
    fetched = await client.get(r.headers["location"], headers=auth("auditor"))
    assert fetched.json() == r.json()


async def test_an_invalid_field_is_a_422_problem_naming_it_and_stores_nothing(writer: Any, auth: Any) -> None:
    spec, client, counts = writer
    before = await counts()
    r = await client.post(spec.path, json=spec.invalid, headers=auth(spec.role))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert spec.invalid_field in [e["field"] for e in r.json()["errors"]]
    assert spec.invalid_field in r.json()["detail"]
    assert await counts() == before


async def test_an_unknown_field_or_a_missing_body_is_a_422_problem(writer: Any, auth: Any) -> None:
    spec, client, counts = writer
    before = await counts()
    r = await client.post(spec.path, json={**spec.unique_valid(), "colour": "red"}, headers=auth(spec.role))
    assert r.status_code == 422
    assert "colour" in [e["field"] for e in r.json()["errors"]]
    r = await client.post(spec.path, headers=auth(spec.role))
    assert r.status_code == 422
    r = await client.post(
        spec.path, content=b"{not json", headers={**auth(spec.role), "content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await counts() == before


async def test_without_a_valid_token_is_401_and_stores_nothing(writer: Any) -> None:
    spec, client, counts = writer
    before = await counts()
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        r = await client.post(spec.path, json=spec.unique_valid(), headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["www-authenticate"] == "Bearer"
    assert (await client.get(spec.path)).status_code == 401
    assert await counts() == before


async def test_a_role_without_the_right_is_403_and_stores_nothing(writer: Any, auth: Any) -> None:
    spec, client, counts = writer
    before = await counts()
    for role in ("auditor", "requester" if spec.service in ("config", "supplier") else "cab_member"):
        r = await client.post(spec.path, json=spec.unique_valid(), headers=auth(role))
        assert r.status_code == 403, role
        assert r.json()["title"] == "Forbidden"
    assert await counts() == before
    assert (await client.post(spec.path, json=spec.unique_valid(), headers=auth("admin"))).status_code == 201


async def test_a_body_over_the_bound_is_413_and_stores_nothing(writer: Any, auth: Any) -> None:
    spec, client, counts = writer
    before = await counts()
    r = await client.post(spec.path, json={**spec.unique_valid(), "description": "x" * 10_000}, headers=auth(spec.role))
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the bound holds while streaming
        yield b'{"description": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    r = await client.post(spec.path, content=chunks(), headers={**auth(spec.role), "content-type": "application/json"})
    assert r.status_code == 413
    assert await counts() == before


async def test_an_unknown_id_is_a_404_problem_and_a_malformed_one_a_422(writer: Any, auth: Any) -> None:
    spec, client, _ = writer
    r = await client.get(f"{spec.path}/{uuid.uuid4()}", headers=auth("auditor"))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.get(f"{spec.path}/not-a-uuid", headers=auth("auditor"))
    assert r.status_code == 422
    r = await client.get("/api/v1/nothing-here", headers=auth("auditor"))
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_bad_pagination_parameter_is_a_422_problem(writer: Any, auth: Any) -> None:
    spec, client, _ = writer
    r = await client.get(spec.path, params={"limit": 0}, headers=auth("auditor"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["limit"]


async def test_health_readiness_and_openapi(writer: Any) -> None:
    spec, client, _ = writer
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.json()["checks"]["database"] == "ok"
    openapi = (await client.get("/openapi.json")).json()
    assert spec.path in openapi["paths"]
