"""What the records control tests of every service share (ISO/IEC 20000-1 4.3.3): the routes, the
service's app on an exchange and queues of its own (its events and disposal job apart from other
tests'), and reads of its database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Table, func, select

from shared.db import create_engine
from tests.infra import Servers

POLICIES, HOLDS, LOG = "/api/v1/retention-policies", "/api/v1/legal-holds", "/api/v1/disposal-log"


def isolated_settings(
    settings_class: type[Any], database: str, servers: Servers, make_settings: Callable[..., Any]
) -> Callable[[], Any]:
    """Settings of the service on `database`, on an exchange and queue prefix of their own; every
    call (one per replica) gives the same."""
    exchange, prefix = servers.new_exchange("records"), servers.new_queue_prefix("records")
    return lambda: make_settings(settings_class, database, events_exchange=exchange, queue_prefix=prefix)


async def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def count(database: str, query: Any) -> int:
    engine = create_engine(database)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(query) or 0)
    finally:
        await engine.dispose()


async def all_published(database: str, outbox: Table) -> None:
    """Every event in the outbox is published (a disposal deletes the published ones only)."""
    assert await count(database, select(func.count()).where(outbox.c.published_at.is_(None))) == 0
