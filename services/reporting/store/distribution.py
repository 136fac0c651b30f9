"""The distribution of stored runs: the distribution log (one row per recipient of a run) and the
webhook channel that delivers a run (an HTTP POST to the recipient's URL)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.agreements import Recipient
from services.reporting.store.tables import report_distribution


async def add_distributions(
    conn: AsyncConnection, run_id: UUID, recipients: Sequence[Recipient], now: datetime, ids: Sequence[UUID]
) -> None:
    rows = [
        {
            "distribution_id": i,
            "run_id": run_id,
            "recipient": r.recipient,
            "channel": r.channel,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for r, i in zip(recipients, ids, strict=True)
    ]
    if rows:
        await conn.execute(report_distribution.insert(), rows)


async def claim_due_distribution(conn: AsyncConnection, now: datetime) -> Any | None:
    """One delivery that is due, locked for this transaction; rows another replica holds are
    skipped, and a row it delivered meanwhile no longer matches (PostgreSQL re-checks the
    condition on the committed row before locking it)."""
    d = report_distribution
    query = (
        select(d)
        .where(d.c.status.in_(("pending", "failed")), d.c.next_attempt_at.is_not(None), d.c.next_attempt_at <= now)
        .order_by(d.c.next_attempt_at, d.c.distribution_id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (await conn.execute(query)).first()


async def record_attempt(conn: AsyncConnection, distribution_id: UUID, values: dict[str, Any]) -> None:
    d = report_distribution
    await conn.execute(
        update(d).where(d.c.distribution_id == distribution_id, d.c.status != "delivered").values(values)
    )


async def distributions(conn: AsyncConnection, run_id: UUID) -> list[Any]:
    d = report_distribution
    return list(await conn.execute(select(d).where(d.c.run_id == run_id).order_by(d.c.created_at, d.c.recipient)))


async def distribution_counts(conn: AsyncConnection, run_ids: Sequence[UUID]) -> dict[UUID, dict[str, int]]:
    """Per run: deliveries by status."""
    if not run_ids:
        return {}
    d = report_distribution
    query = select(d.c.run_id, d.c.status, func.count()).where(d.c.run_id.in_(run_ids))
    found: dict[UUID, dict[str, int]] = {}
    for run_id, status, count in await conn.execute(query.group_by(d.c.run_id, d.c.status)):
        found.setdefault(run_id, {})[str(status)] = int(count)
    return found


# The webhook channel


def webhook_client(timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """The client of one delivery pass (redirects are not followed)."""
    return httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, transport=transport)


async def post_webhook(
    client: httpx.AsyncClient, url: str, payload: dict[str, Any], headers: dict[str, str]
) -> str | None:
    """None when the receiver accepted it (2xx), else why not."""
    try:
        response = await client.post(url, content=json.dumps(payload).encode("utf-8"), headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"
