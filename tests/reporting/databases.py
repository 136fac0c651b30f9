"""Reporting databases for the tests that must hold on both of its databases: PostgreSQL (the
production one, from the test servers) and SQLite (the embedded default, a file)."""

from __future__ import annotations

import asyncio

import pytest

from shared.migrations import upgrade
from tests.infra import Servers, create_service_database

BACKENDS = ["postgresql", "sqlite"]


async def reporting_database(backend: str, servers: Servers, tmp: pytest.TempPathFactory, label: str) -> str:
    """A fresh, migrated reporting database on `backend`; its URL."""
    if backend == "postgresql":
        return await create_service_database(servers, "reporting", label=label)
    url = f"sqlite+aiosqlite:///{tmp.mktemp(label)}/reporting.db"
    await asyncio.to_thread(upgrade, "reporting", url)
    return url
