"""Reporting routes, management reviews (ISO/IEC 20000-1 4.5.4.3): the review cites the stored report
runs it went through (with the figures each showed), the internal audits and the improvement
register as it stood; its decisions and actions are followed up here."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response

from services.reporting.api.deps import POLICY, Caller
from services.reporting.schemas.audits import ManagementReviewCreate, ManagementReviewPage, ManagementReviewRead
from services.reporting.schemas.service_reviews import ActionMove
from services.reporting.store.management_reviews import get_review, page_of_reviews
from services.reporting.usecases import management_reviews
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset, RequiredIfMatch
from shared.errors import found
from shared.http import created, expected_version, tagged

router = APIRouter(
    prefix="/api/v1/management-reviews", tags=["management reviews"], dependencies=[Depends(POLICY.enforce)]
)
Index = Annotated[int, Path(ge=0, le=49)]


@router.post("", status_code=201, response_model=ManagementReviewRead)
async def record_management_review(
    body: ManagementReviewCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> ManagementReviewRead:
    cmd = management_reviews.RecordReview(**body.command_values())
    review = await management_reviews.record_review(cmd, uow, who.subject)
    return created(response, f"{router.prefix}/{review.id}", review.version, ManagementReviewRead.of(review))


@router.get("", response_model=ManagementReviewPage)
async def list_management_reviews(
    conn: ReadConnectionDep, since: date | None = None, limit: Limit = 50, offset: Offset = 0
) -> ManagementReviewPage:
    reviews, total = await page_of_reviews(conn, since=since, limit=limit, offset=offset)
    return ManagementReviewPage(
        items=[ManagementReviewRead.of(r) for r in reviews], total=total, limit=limit, offset=offset
    )


@router.get("/{management_review_id}", response_model=ManagementReviewRead)
async def get_management_review(
    management_review_id: UUID, conn: ReadConnectionDep, response: Response
) -> ManagementReviewRead:
    review = found(await get_review(conn, management_review_id), f"management review {management_review_id}")
    return tagged(response, review.version, ManagementReviewRead.of(review))


@router.post("/{management_review_id}/actions/{index}/status", response_model=ManagementReviewRead)
async def move_management_review_action(
    management_review_id: UUID,
    index: Index,
    body: ActionMove,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> ManagementReviewRead:
    review = await management_reviews.move_action(
        management_review_id, index, body.status, expected_version(if_match), uow
    )
    return tagged(response, review.version, ManagementReviewRead.of(review))
