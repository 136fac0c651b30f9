"""Distribution use cases: deliver stored report runs to their recipients (the `webhook` channel),
with retries; read a run's distribution log.

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

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.distribution import RetryPolicy
from services.reporting.store import distribution as store
from services.reporting.store import runs as runs_store
from services.reporting.usecases.runs import get_run, run_meta
from shared.uow import UnitOfWork

if TYPE_CHECKING:
    import httpx

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


async def deliver_due(
    unit_of_work: Callable[[], UnitOfWork],
    now: datetime,
    config: DeliveryConfig,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> DeliveryResult:
    result = DeliveryResult()
    async with store.webhook_client(config.timeout_s, transport) as client:
        for _ in range(config.max_per_pass):
            async with unit_of_work() as uow:
                conn = uow.connection
                due = await store.claim_due_distribution(conn, now)
                if due is None:
                    break
                run = await runs_store.get_run(conn, due.run_id)
                meta = run_meta(run)
                headers = {
                    "Content-Type": "application/json",
                    "Idempotency-Key": str(due.distribution_id),
                    "X-ITSM-Report-Run": meta["id"],
                    "X-ITSM-Content-SHA256": meta["content_sha256"] or "",
                    "User-Agent": "itsm-reporting",
                }
                error = await store.post_webhook(client, due.recipient, webhook_payload(run), headers)
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
                await store.record_attempt(conn, due.distribution_id, values)
                await uow.commit()
    return result


async def distribution_log(conn: AsyncConnection, run_id: uuid.UUID) -> list[Any]:
    await get_run(conn, run_id)
    return await store.distributions(conn, run_id)
