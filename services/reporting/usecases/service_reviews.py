"""Service review actions (ISO/IEC 20000-1 8.3.3): record a review meeting (the report runs it
presented must be stored runs), move one of its actions, link the change raised for a requirement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from services.reporting.domain.service_reviews import Requirement, ReviewAction, ServiceReview
from services.reporting.store import service_reviews as store
from shared import clock
from shared.errors import RuleViolation, check_version, found
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class RecordReview:
    title: str
    customer_id: UUID | None
    held_on: date
    attendees: tuple[str, ...]
    report_run_ids: tuple[UUID, ...]
    feedback: str
    requirements: tuple[Requirement, ...]
    actions: tuple[ReviewAction, ...]


async def record_review(cmd: RecordReview, uow: UnitOfWork, actor: str) -> ServiceReview:
    now = clock.now()
    review = ServiceReview(id=uuid4(), recorded_by=actor, recorded_at=now, updated_at=now, **cmd.__dict__)
    async with uow:
        missing = await store.missing_runs(uow.connection, review.report_run_ids)
        if missing:
            index = review.report_run_ids.index(missing[0])
            raise RuleViolation(f"there is no report run {missing[0]}", field=f"report_run_ids.{index}")
        await store.add_review(uow.connection, review)
        await uow.commit()
    return review


async def move_action(review_id: UUID, index: int, status: str, expected: int | None, uow: UnitOfWork) -> ServiceReview:
    async with uow:
        current = await _current(uow, review_id, expected)
        review = current.action_moved(index, status, clock.now())
        await store.save_review(uow.connection, review, current.version)
        await uow.commit()
    return review


async def link_change(
    review_id: UUID, index: int, change_number: str, expected: int | None, uow: UnitOfWork
) -> ServiceReview:
    async with uow:
        current = await _current(uow, review_id, expected)
        review = current.change_linked(index, change_number, clock.now())
        await store.save_review(uow.connection, review, current.version)
        await uow.commit()
    return review


async def _current(uow: UnitOfWork, review_id: UUID, expected: int | None) -> ServiceReview:
    current = found(await store.get_review(uow.connection, review_id, for_update=True), f"service review {review_id}")
    check_version(f"service review {review_id}", current.version, expected)
    return current
