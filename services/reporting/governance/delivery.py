"""Distribution of stored report runs to their recipients (the `webhook` channel), with retries.

Each pass of the `report-runs` job delivers the deliveries that are due, one per transaction:
the row is locked (`FOR UPDATE SKIP LOCKED`) while its POST is under way and updated in the
same transaction, so a second replica running the job at the same time skips it, and once it is
`delivered` no pass selects it again. A failed attempt is retried by a later pass, after a
doubling delay, up to a number of attempts; then it stays `failed` with its last error.

Delivery is at least once: if the process dies after the receiver accepted a POST and before
the commit, the next pass sends it again. Every POST carries the delivery's id as
`Idempotency-Key`, so a receiver can drop such a repeat.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from services.reporting.governance import store as gstore
from services.reporting.governance.domain import RetryPolicy
from services.reporting.governance.usecases import run_meta
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryConfig:
    retry: RetryPolicy
    timeout_s: float
    max_per_pass: int = 100


@dataclass
class DeliveryResult:
    delivered: int = 0
    failed: int = 0


def webhook_payload(run: Any) -> dict[str, Any]:
    """What a webhook receives: the run's record and the report as it was produced."""
    return {"run": run_meta(run), "report": run.body}


async def _post(client: httpx.AsyncClient, url: str, payload: dict[str, Any], headers: dict[str, str]) -> str | None:
    """None when the receiver accepted it (2xx), else why not."""
    try:
        response = await client.post(url, content=json.dumps(payload).encode("utf-8"), headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"


async def deliver_due(
    unit_of_work: Callable[[], UnitOfWork],
    now: datetime,
    config: DeliveryConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> DeliveryResult:
    result = DeliveryResult()
    async with httpx.AsyncClient(timeout=config.timeout_s, follow_redirects=False, transport=transport) as client:
        for _ in range(config.max_per_pass):
            async with unit_of_work() as uow:
                conn = uow.connection
                due = await gstore.claim_due_distribution(conn, now)
                if due is None:
                    break
                run = await gstore.run(conn, due.run_id)
                meta = run_meta(run)
                headers = {
                    "Content-Type": "application/json",
                    "Idempotency-Key": str(due.distribution_id),
                    "X-ITSM-Report-Run": meta["id"],
                    "X-ITSM-Content-SHA256": meta["content_sha256"] or "",
                    "User-Agent": "itsm-reporting",
                }
                error = await _post(client, due.recipient, webhook_payload(run), headers)
                attempts = due.attempts + 1
                values: dict[str, Any] = {"attempts": attempts, "last_attempt_at": now}
                if error is None:
                    values |= {"status": "delivered", "delivered_at": now, "next_attempt_at": None, "last_error": None}
                    result.delivered += 1
                else:
                    retry_at = config.retry.after_failure(attempts, now)
                    values |= {"status": "failed", "last_error": error, "next_attempt_at": retry_at}
                    result.failed += 1
                    log.warning(
                        "report run %s to %s: attempt %d failed (%s); %s",
                        meta["id"],
                        urlsplit(due.recipient).hostname,  # not the URL: its path may hold a token
                        attempts,
                        error,
                        f"next at {retry_at.isoformat()}" if retry_at else "giving up",
                    )
                await gstore.record_attempt(conn, due.distribution_id, values)
                await uow.commit()
    return result
