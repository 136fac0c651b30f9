"""Management review records (ISO/IEC 20000-1 4.5.4.3), and the stored report runs they cite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.domain.management_reviews import ManagementReview, RunInput, inputs_json, inputs_of
from services.reporting.domain.service_reviews import action_json, action_of
from services.reporting.store.tables import management_review, report_run
from shared.db import page, record_of, row_by_id, row_values, update_versioned


def _row(review: ManagementReview) -> dict[str, Any]:
    return row_values(
        management_review,
        review,
        attendees=list(review.attendees),
        inputs=inputs_json(review.inputs),
        audit_ids=[str(a) for a in review.audit_ids],
        decisions=list(review.decisions),
        actions=[action_json(a) for a in review.actions],
    )


def review_of(row: Any) -> ManagementReview:
    values = row._mapping
    return record_of(
        ManagementReview,
        row,
        attendees=tuple(values["attendees"]),
        inputs=inputs_of(values["inputs"]),
        audit_ids=tuple(UUID(a) for a in values["audit_ids"]),
        decisions=tuple(values["decisions"]),
        actions=tuple(action_of(a) for a in values["actions"]),
    )


async def add_review(conn: AsyncConnection, review: ManagementReview) -> None:
    await conn.execute(management_review.insert(), _row(review))


async def save_review(conn: AsyncConnection, review: ManagementReview, expected_version: int) -> None:
    values = _row(review)
    del values["id"]
    await update_versioned(
        conn, management_review, review.id, expected_version, values, label=f"management review {review.id}"
    )


async def get_review(conn: AsyncConnection, review_id: UUID, *, for_update: bool = False) -> ManagementReview | None:
    row = await row_by_id(conn, management_review, review_id, for_update=for_update)
    return review_of(row) if row is not None else None


async def page_of_reviews(
    conn: AsyncConnection, *, since: date | None, limit: int, offset: int
) -> tuple[Sequence[ManagementReview], int]:
    query = select(management_review)
    if since is not None:
        query = query.where(management_review.c.held_on >= since)
    rows, total = await page(
        conn, query, management_review.c.held_on.desc(), management_review.c.id, limit=limit, offset=offset
    )
    return [review_of(r) for r in rows], total


async def run_inputs(conn: AsyncConnection, run_ids: Sequence[UUID]) -> dict[UUID, RunInput]:
    """The stored runs among `run_ids`, each as a review cites it (the figures it showed)."""
    if not run_ids:
        return {}
    columns = [report_run.c[c] for c in ("run_id", "report", "period_start", "period_end", "content_sha256", "body")]
    rows = await conn.execute(select(*columns).where(report_run.c.run_id.in_(list(run_ids))))
    return {
        r.run_id: RunInput(
            r.run_id, r.report, r.period_start, r.period_end, r.content_sha256, dict(r.body.get("totals") or {})
        )
        for r in rows
    }
