"""The notify app in process on the run's notify database (no worker: deliveries are not under test here)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from services.notify.app import create_app
from services.notify.settings import NotifySettings
from tests.conftest import running


@pytest.fixture(scope="module")
async def notify_db(service_database: Callable[[str], Any]) -> str:
    return str(await service_database("notify"))


@pytest.fixture
async def client(notify_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(NotifySettings, notify_db, run_worker=False)
    async with running(create_app(settings)) as client:
        yield client


@pytest.fixture
async def open_client(notify_db: str, make_settings: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    """The app with private, loopback and link-local targets allowed by its setting."""
    settings = make_settings(NotifySettings, notify_db, run_worker=False, webhook_allow_private_targets=True)
    async with running(create_app(settings)) as client:
        yield client
