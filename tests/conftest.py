"""Fixtures for the whole suite: test servers, per-service databases, tokens, tracing, apps.

Markers come from the folder a test lives in (`unit`, `integration`, `api`, `e2e`, `contracts`, `fuzz`).
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.auth import mint_token
from shared.settings import ServiceSettings
from shared.telemetry import configure_telemetry
from tests.infra import RETRY_DELAY_MS, Servers, cleanup, create_service_database, provide_servers
from tests.leftovers import stop_left_running, stop_orphans_of_ended_runs

TEST_JWT_SECRET = "test-secret-for-the-suite-0123456789abcdef"
SERVICES = ["incident", "change", "config", "supplier", "reporting", "notify"]
S = TypeVar("S", bound=ServiceSettings)

_MARKERS = {"unit", "integration", "api", "e2e", "contracts", "fuzz"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for part in Path(str(item.fspath)).parts:
            if part in _MARKERS:
                item.add_marker(getattr(pytest.mark, part))


# One tracer provider for the whole process, set before any engine exists (the SQLAlchemy
# instrumentation wraps engine creation); tests read finished spans from `span_exporter`.
SPAN_EXPORTER = InMemorySpanExporter()
_PROVIDER = TracerProvider()
_PROVIDER.add_span_processor(SimpleSpanProcessor(SPAN_EXPORTER))
configure_telemetry("tests", tracer_provider=_PROVIDER)


@pytest.fixture(scope="session", autouse=True)
def no_service_process_of_an_ended_run() -> None:
    """Before anything starts: what a killed run left polling the servers would slow this one."""
    if stopped := stop_orphans_of_ended_runs():
        warnings.warn(
            f"{len(stopped)} service processes of ended test runs were running and are now killed", stacklevel=1
        )


@pytest.fixture(scope="module", autouse=True)
def no_service_process_outlives_its_module() -> Iterator[None]:
    """Torn down after the module's own fixtures: what they left running is stopped and named."""
    yield
    if stopped := stop_left_running():
        warnings.warn(f"{len(stopped)} service processes were left running and are now killed: {stopped}", stacklevel=1)


@pytest.fixture
def span_exporter() -> Iterator[InMemorySpanExporter]:
    SPAN_EXPORTER.clear()
    yield SPAN_EXPORTER
    SPAN_EXPORTER.clear()


@pytest.fixture(scope="session")
def servers_sync() -> Iterator[Servers]:
    with provide_servers() as servers:
        yield servers


@pytest.fixture(scope="session")
async def servers(servers_sync: Servers) -> AsyncIterator[Servers]:
    yield servers_sync
    await cleanup(servers_sync, SERVICES)


_databases: dict[str, str] = {}


@pytest.fixture(scope="session")
async def service_database(servers: Servers) -> Callable[[str], Any]:
    """`await service_database("incident")` -> URL of the run's migrated database for it."""

    async def get(service: str) -> str:
        if service not in _databases:
            _databases[service] = await create_service_database(servers, service)
        return _databases[service]

    return get


@pytest.fixture(scope="session")
def make_settings(servers: Servers) -> Callable[..., Any]:
    """Settings of a service pointed at the run's servers, exchange and queue prefix."""

    def build(settings_cls: type[S], database_url: str, **overrides: Any) -> S:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": database_url,
            "amqp_url": servers.amqp_url,
            "events_exchange": servers.exchange,
            "queue_prefix": servers.queue_prefix,
            "jwt_secret": TEST_JWT_SECRET,
            "retry_delay_ms": RETRY_DELAY_MS,
            "max_delivery_attempts": 3,
            "relay_poll_interval_s": 0.1,
            "log_json": False,
            "db_pool_size": 5,
        }
        values.update(overrides)
        return settings_cls(**values)

    return build


@pytest.fixture(scope="session")
def token() -> Callable[..., str]:
    def mint(*roles: str, subject: str = "tester", groups: tuple[str, ...] = ()) -> str:
        return mint_token(TEST_JWT_SECRET, subject, roles, groups=groups)

    return mint


@pytest.fixture(scope="session")
def auth(token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def headers(*roles: str, subject: str = "tester", groups: tuple[str, ...] = ()) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(*roles, subject=subject, groups=groups)}"}

    return headers


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (relay, consumer) running, and a client talking to it in process."""
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
