"""Reporting's SQL against both databases it runs on: a fresh migrated one per test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine
from shared.migrations import upgrade
from tests.infra import Servers, create_service_database

_labels = iter(range(1000))


@pytest.fixture(params=["postgresql", "sqlite"])
async def engine(request: pytest.FixtureRequest, servers: Servers, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/reporting.db"
        await asyncio.to_thread(upgrade, "reporting", url)
    else:
        url = await create_service_database(servers, "reporting", label=f"sql{next(_labels)}")
    engine = create_engine(url)
    yield engine
    await engine.dispose()
