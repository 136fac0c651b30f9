"""Reporting routes, service reviews (ISO/IEC 20000-1 8.3.3): the review meetings held with customers,
the report runs they went through, feedback, new requirements (and the change raised for each) and
actions."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response

from services.reporting.api.deps import POLICY, Caller
from services.reporting.schemas.service_reviews import (
    ActionMove,
    ChangeLink,
    ServiceReviewCreate,
    ServiceReviewPage,
    ServiceReviewRead,
)
from services.reporting.store.service_reviews import get_review, page_of_reviews
from services.reporting.usecases import service_reviews
from shared.app import ReadConnectionDep, UnitOfWorkDep
from shared.deps import Limit, Offset, RequiredIfMatch
from shared.errors import found
from shared.http import created, expected_version, tagged

router = APIRouter(prefix="/api/v1/service-reviews", tags=["service reviews"], dependencies=[Depends(POLICY.enforce)])
Index = Annotated[int, Path(ge=0, le=49)]


@router.post("", status_code=201, response_model=ServiceReviewRead)
async def record_service_review(
    body: ServiceReviewCreate, uow: UnitOfWorkDep, who: Caller, response: Response
) -> ServiceReviewRead:
    cmd = service_reviews.RecordReview(**body.command_values())  # type: ignore[arg-type]
    review = await service_reviews.record_review(cmd, uow, who.subject)
    return created(response, f"{router.prefix}/{review.id}", review.version, ServiceReviewRead.of(review))


@router.get("", response_model=ServiceReviewPage)
async def list_service_reviews(
    conn: ReadConnectionDep,
    customer_id: UUID | None = None,
    since: date | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ServiceReviewPage:
    reviews, total = await page_of_reviews(conn, customer_id=customer_id, since=since, limit=limit, offset=offset)
    return ServiceReviewPage(items=[ServiceReviewRead.of(r) for r in reviews], total=total, limit=limit, offset=offset)


@router.get("/{review_id}", response_model=ServiceReviewRead)
async def get_service_review(review_id: UUID, conn: ReadConnectionDep, response: Response) -> ServiceReviewRead:
    review = found(await get_review(conn, review_id), f"service review {review_id}")
    return tagged(response, review.version, ServiceReviewRead.of(review))


@router.post("/{review_id}/actions/{index}/status", response_model=ServiceReviewRead)
async def move_service_review_action(
    review_id: UUID,
    index: Index,
    body: ActionMove,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> ServiceReviewRead:
    review = await service_reviews.move_action(review_id, index, body.status, expected_version(if_match), uow)
    return tagged(response, review.version, ServiceReviewRead.of(review))


@router.post("/{review_id}/requirements/{index}/change", response_model=ServiceReviewRead)
async def link_service_review_change(
    review_id: UUID,
    index: Index,
    body: ChangeLink,
    uow: UnitOfWorkDep,
    response: Response,
    if_match: RequiredIfMatch = None,
) -> ServiceReviewRead:
    """The change raised to meet a new requirement (its number in the change service)."""
    review = await service_reviews.link_change(review_id, index, body.change_number, expected_version(if_match), uow)
    return tagged(response, review.version, ServiceReviewRead.of(review))
