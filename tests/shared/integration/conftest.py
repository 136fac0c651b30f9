"""Fixtures of the shared library's integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from shared.messaging import BrokerConnection, EventPublisher
from tests.infra import Servers


@pytest.fixture
async def publisher(servers: Servers) -> AsyncIterator[EventPublisher]:
    """The event publisher as the relay uses it, on the run's broker and exchange."""
    broker = BrokerConnection(servers.amqp_url, name="relay-test")
    broker.start()
    await asyncio.wait_for(broker.ready.wait(), 10)
    yield EventPublisher(broker, servers.exchange)
    await broker.close()
