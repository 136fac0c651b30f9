"""Service review records (ISO/IEC 20000-1 8.3.3)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.service_reviews import ServiceReview, as_json, of_json
from services.reporting.store.tables import report_run, service_review
from shared.db import page, row_by_id, row_values, update_versioned, where_given


def _row(review: ServiceReview) -> dict[str, Any]:
    return row_values(service_review, review, **as_json(review))


def review_of(row: Any) -> ServiceReview:
    values = dict(row._mapping)
    values.update(of_json(values))
    return ServiceReview(**values)


async def add_review(conn: AsyncConnection, review: ServiceReview) -> None:
    await conn.execute(service_review.insert(), _row(review))


async def save_review(conn: AsyncConnection, review: ServiceReview, expected_version: int) -> None:
    values = _row(review)
    del values["id"]
    await update_versioned(
        conn, service_review, review.id, expected_version, values, label=f"service review {review.id}"
    )


async def get_review(conn: AsyncConnection, review_id: UUID, *, for_update: bool = False) -> ServiceReview | None:
    row = await row_by_id(conn, service_review, review_id, for_update=for_update)
    return review_of(row) if row is not None else None


async def page_of_reviews(
    conn: AsyncConnection, *, customer_id: UUID | None, since: date | None, limit: int, offset: int
) -> tuple[Sequence[ServiceReview], int]:
    query = where_given(select(service_review), service_review, customer_id=customer_id)
    if since is not None:
        query = query.where(service_review.c.held_on >= since)
    rows, total = await page(
        conn, query, service_review.c.held_on.desc(), service_review.c.id, limit=limit, offset=offset
    )
    return [review_of(r) for r in rows], total


async def missing_runs(conn: AsyncConnection, run_ids: Sequence[UUID]) -> list[UUID]:
    """Those of `run_ids` that are no stored report run."""
    if not run_ids:
        return []
    found = set(await conn.scalars(select(report_run.c.run_id).where(report_run.c.run_id.in_(list(run_ids)))))
    return [r for r in run_ids if r not in found]
