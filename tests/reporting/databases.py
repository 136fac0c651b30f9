"""Reporting databases for the tests that must hold on both of its databases: PostgreSQL (the
production one, from the test servers) and SQLite (the embedded default, a file)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.reporting.domain.report_filters import ReportFilters
from services.reporting.usecases import projections, reports
from shared.db import create_engine
from shared.migrations import upgrade
from tests.infra import Servers, create_service_database
from tests.reporting.dataset import NOW, all_events

BACKENDS = ["postgresql", "sqlite"]


async def reporting_database(backend: str, servers: Servers, tmp: pytest.TempPathFactory, label: str) -> str:
    """A fresh, migrated reporting database on `backend`; its URL."""
    if backend == "postgresql":
        return await create_service_database(servers, "reporting", label=label)
    url = f"sqlite+aiosqlite:///{tmp.mktemp(label)}/reporting.db"
    await asyncio.to_thread(upgrade, "reporting", url)
    return url


async def project_dataset(url: str, *, seed: int, batch: int = 5) -> str:
    """The shared data set's events (tests/reporting/dataset.py), shuffled by `seed`, projected into
    the database at `url` a batch at a time; the URL."""
    engine = create_engine(url)
    events = all_events()
    random.Random(seed).shuffle(events)
    try:
        while events:
            taken, events = events[:batch], events[batch:]
            async with engine.begin() as conn:
                await projections.project(conn, taken)
    finally:
        await engine.dispose()
    return url


async def produce(engine: AsyncEngine, name: str, **filters: Any) -> reports.Report:
    """Report `name` as of the data set's NOW, each row's columns in the definition's order."""
    async with engine.connect() as conn:
        report = await reports.produce(conn, name, ReportFilters(**filters), now=NOW)
    for row in report.rows:
        assert list(row) == list(report.definition.columns)
    return report
