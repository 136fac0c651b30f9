"""Governance use cases: the register of processes suppliers operate (4.2) and performance reviews (7.2)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncConnection

from services.supplier.domain.governance import OperatedProcess, Process, Review, ReviewAction
from services.supplier.domain.performance import check_period
from services.supplier.domain.records import Edit
from services.supplier.store.governance import ProcessRepository, ReviewRepository
from services.supplier.usecases.contracts import check_contract_of
from services.supplier.usecases.performance import Scorecard, scorecard
from services.supplier.usecases.suppliers import require_supplier
from shared import clock
from shared.errors import NotFound
from shared.numbering import format_number
from shared.uow import UnitOfWork

# ---------------------------------------------------------------------------- process register


@dataclass(frozen=True)
class RegisterProcess:
    supplier_id: UUID
    process: Process
    scope: str
    measurement: str
    process_owner: str
    contract_id: UUID | None = None
    kpis: tuple[str, ...] = ()


async def register_process(cmd: RegisterProcess, uow: UnitOfWork) -> OperatedProcess:
    async with uow:
        conn = uow.connection
        await require_supplier(conn, cmd.supplier_id)
        await check_contract_of(conn, cmd.contract_id, cmd.supplier_id)
        now = clock.now()
        item = OperatedProcess(
            id=uuid4(),
            supplier_id=cmd.supplier_id,
            process=cmd.process,
            scope=cmd.scope,
            contract_id=cmd.contract_id,
            measurement=cmd.measurement,
            kpis=cmd.kpis,
            process_owner=cmd.process_owner,
            created_at=now,
            updated_at=now,
        )
        await ProcessRepository(conn).add(item)
        await uow.commit()
    return item


async def _process(conn: AsyncConnection, supplier_id: UUID, process_id: UUID) -> OperatedProcess:
    item = await ProcessRepository(conn).get(supplier_id, process_id)
    if item is None:
        raise NotFound(f"supplier {supplier_id} has no process entry {process_id}")
    return item


async def update_process(
    supplier_id: UUID, process_id: UUID, values: Mapping[str, Any], edit: Edit, uow: UnitOfWork
) -> OperatedProcess:
    async with uow:
        conn = uow.connection
        item = await _process(conn, supplier_id, process_id)
        edit.check("the register entry", item.version)
        if values.get("contract_id") is not None:
            await check_contract_of(conn, values["contract_id"], supplier_id)
        if item.update(values, clock.now()):
            await ProcessRepository(conn).save(item)
            await uow.commit()
    return item


async def remove_process(supplier_id: UUID, process_id: UUID, edit: Edit, uow: UnitOfWork) -> None:
    async with uow:
        item = await _process(uow.connection, supplier_id, process_id)
        edit.check("the register entry", item.version)
        await ProcessRepository(uow.connection).remove(item)
        await uow.commit()


# ---------------------------------------------------------------------------- reviews


@dataclass(frozen=True)
class RecordReview:
    supplier_id: UUID
    held_on: date
    period: str
    participants: tuple[str, ...]
    findings: str
    actions: tuple[ReviewAction, ...]
    recorded_by: str
    contract_id: UUID | None = None


REVIEW_TREND_PERIODS = 3
"""Months before the reviewed one whose figures a review keeps."""


async def record_review(
    cmd: RecordReview, uow: UnitOfWork, shown_as: Callable[[Scorecard], Mapping[str, Any]]
) -> Review:
    """The review, with the supplier's scorecard as it stands now (figures move as late events
    arrive), read in the review's own transaction and kept as `shown_as` renders it (the API's form)."""
    async with uow:
        conn = uow.connection
        await require_supplier(conn, cmd.supplier_id)
        await check_contract_of(conn, cmd.contract_id, cmd.supplier_id)
        card = await scorecard(conn, cmd.supplier_id, check_period(cmd.period), REVIEW_TREND_PERIODS)
        reviews = ReviewRepository(conn)
        review = Review(
            id=uuid4(),
            number=format_number("SPR", await reviews.next_number()),
            supplier_id=cmd.supplier_id,
            contract_id=cmd.contract_id,
            held_on=cmd.held_on,
            period=cmd.period,
            participants=cmd.participants,
            figures=shown_as(card),
            findings=cmd.findings,
            actions=cmd.actions,
            recorded_by=cmd.recorded_by,
            created_at=clock.now(),
        )
        await reviews.add(review)
        await uow.commit()
    return review


def review_actions(items: Sequence[Mapping[str, Any]]) -> tuple[ReviewAction, ...]:
    return tuple(ReviewAction(i["description"], i["owner"], i["due_on"]) for i in items)
