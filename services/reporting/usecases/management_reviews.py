"""Management review actions (ISO/IEC 20000-1 4.5.4.3): record a review (the report runs it went
through must be stored runs, and the figures each showed are copied into it; the audits it cites
must be stored audits; the register's state is taken as it stands), move one of its actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from services.reporting.domain.management_reviews import ManagementReview
from services.reporting.domain.service_reviews import ReviewAction
from services.reporting.store import audits as audit_store
from services.reporting.store import improvements as improvement_store
from services.reporting.store import management_reviews as store
from shared import clock
from shared.errors import RuleViolation, check_version, found
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class RecordReview:
    title: str
    held_on: date
    chair: str
    attendees: tuple[str, ...]
    report_run_ids: tuple[UUID, ...]
    audit_ids: tuple[UUID, ...]
    conclusions: str
    decisions: tuple[str, ...]
    actions: tuple[ReviewAction, ...]


async def record_review(cmd: RecordReview, uow: UnitOfWork, actor: str) -> ManagementReview:
    now = clock.now()
    async with uow:
        conn = uow.connection
        runs = await store.run_inputs(conn, cmd.report_run_ids)
        for index, run_id in enumerate(cmd.report_run_ids):
            if run_id not in runs:
                raise RuleViolation(f"there is no report run {run_id}", field=f"report_run_ids.{index}")
        missing = await audit_store.missing_audits(conn, cmd.audit_ids)
        if missing:
            index = cmd.audit_ids.index(missing[0])
            raise RuleViolation(f"there is no audit {missing[0]}", field=f"audit_ids.{index}")
        values = {k: v for k, v in cmd.__dict__.items() if k != "report_run_ids"}
        review = ManagementReview(
            id=uuid4(),
            inputs=tuple(runs[r] for r in dict.fromkeys(cmd.report_run_ids)),
            improvements_by_status=await improvement_store.counts_by_status(conn),
            recorded_by=actor,
            recorded_at=now,
            updated_at=now,
            **values,
        )
        if len(review.inputs) != len(cmd.report_run_ids):
            raise RuleViolation("a report run is listed once", field="report_run_ids")
        await store.add_review(conn, review)
        await uow.commit()
    return review


async def move_action(
    review_id: UUID, index: int, status: str, expected: int | None, uow: UnitOfWork
) -> ManagementReview:
    async with uow:
        current = found(
            await store.get_review(uow.connection, review_id, for_update=True), f"management review {review_id}"
        )
        check_version(f"management review {review_id}", current.version, expected)
        review = current.action_moved(index, status, clock.now())
        await store.save_review(uow.connection, review, current.version)
        await uow.commit()
    return review
