"""The notify service on a fresh database per test, with fast retries and private targets allowed
(the receiver listens on 127.0.0.1)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from services.notify.settings import NotifySettings
from shared.db import create_engine
from tests.infra import Servers, create_service_database
from tests.notify.helpers import FAST_RETRIES, Notify
from tests.notify.receiver import Receiver, receiver


@pytest.fixture
async def notify(servers: Servers, make_settings: Callable[..., Any]) -> AsyncIterator[Notify]:
    url = await create_service_database(servers, "notify", label=uuid.uuid4().hex[:8])
    engine = create_engine(url)
    try:
        yield Notify(engine, url, make_settings(NotifySettings, url, run_worker=False, **FAST_RETRIES))
    finally:
        await engine.dispose()


@pytest.fixture
async def hooks() -> AsyncIterator[Receiver]:
    async with receiver() as server:
        yield server
